"""Quix Streams keeping count and sum per key in its state (RocksDB, changelog topic).

    python quix_stateful.py BROKER TOPIC[,TOPIC...] N STATE_DIR

Prints DONE <seconds> from the first event to the N-th, then stops. Runs in
bench/peers/.venv (make peers)."""

from __future__ import annotations

import sys
import time

from quixstreams import Application, State

broker, names, expected, state_dir = (sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]),
                                      sys.argv[4])
app = Application(broker_address=broker, consumer_group=f"quix-{time.time_ns()}",
                  auto_offset_reset="earliest", state_dir=state_dir,
                  # a librdkafka client joins a group on Tansu in half its session timeout; Apache
                  # Kafka refuses one under 6 s (group.min.session.timeout.ms)
                  consumer_extra_config={"session.timeout.ms": 6000,
                                         "heartbeat.interval.ms": 500})
seen = {"n": 0, "t0": 0.0}


def count(value: dict, state: State) -> None:
    state.set("n", state.get("n", 0) + 1)
    state.set("sum", state.get("sum", 0.0) + float(value.get("amount") or 0.0))
    if seen["n"] == 0:
        seen["t0"] = time.monotonic()
    seen["n"] += 1
    if seen["n"] == expected:
        print(f"DONE {time.monotonic() - seen['t0']:.3f}", flush=True)
        app.stop()


for name in names:
    app.dataframe(app.topic(name, value_deserializer="json")).update(count, stateful=True)
app.run()
