"""Bytewax keeping count and sum per key with ``stateful_map`` (no recovery configured).

    python bytewax_stateful.py BROKER TOPIC[,TOPIC...] N

Prints DONE <seconds> from the first event to the N-th, then exits. Runs in
bench/peers/.venv (make peers)."""

from __future__ import annotations

import os
import sys
import time

import bytewax.operators as op
import orjson
from bytewax.connectors.kafka import KafkaSourceMessage
from bytewax.connectors.kafka import operators as kop
from bytewax.dataflow import Dataflow
from bytewax.testing import run_main

broker, names, expected = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
seen = {"n": 0, "t0": 0.0}


def keyed(msg: KafkaSourceMessage) -> tuple[str, dict]:
    return (msg.key or b"").decode(), orjson.loads(msg.value or b"{}")


def count(state: tuple[int, float] | None, value: dict) -> tuple[tuple[int, float], None]:
    n, total = state or (0, 0.0)
    if seen["n"] == 0:
        seen["t0"] = time.monotonic()
    seen["n"] += 1
    if seen["n"] == expected:
        print(f"DONE {time.monotonic() - seen['t0']:.3f}", flush=True)
        os._exit(0)  # a Kafka input never ends by itself
    return (n + 1, total + float(value.get("amount") or 0.0)), None


flow = Dataflow("peer")
read = kop.input("kafka", flow, brokers=[broker], topics=names, tail=True,
                 starting_offset=0, add_config={"session.timeout.ms": "6000"})
counted = op.stateful_map("count", op.map("keyed", read.oks, keyed), count)
op.inspect("sink", counted, lambda _step, _item: None)  # a dataflow needs an output
run_main(flow)
