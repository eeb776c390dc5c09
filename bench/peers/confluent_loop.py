"""A bare confluent-kafka consumer loop keeping count and sum per key in a dict: what a
Python process can take off the broker with no framework at all.

    python confluent_loop.py BROKER TOPIC[,TOPIC...] N

Prints DONE <seconds> from the first event to the N-th. Runs in bench/peers/.venv."""

from __future__ import annotations

import sys
import time

import orjson
from confluent_kafka import Consumer

broker, names, expected = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
consumer = Consumer({"bootstrap.servers": broker, "group.id": f"loop-{time.time_ns()}",
                     "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
                     "heartbeat.interval.ms": 500, "enable.auto.commit": True})
consumer.subscribe(names)
state: dict[bytes | None, tuple[int, float]] = {}
n, t0 = 0, 0.0
while n < expected:
    for msg in consumer.consume(1000, timeout=1.0):
        if msg.error():
            continue
        if n == 0:
            t0 = time.monotonic()
        count, total = state.get(msg.key(), (0, 0.0))
        amount = orjson.loads(msg.value()).get("amount") or 0.0
        state[msg.key()] = (count + 1, total + float(amount))
        n += 1
print(f"DONE {time.monotonic() - t0:.3f}", flush=True)
consumer.close()
