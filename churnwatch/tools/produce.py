"""Send an event log into the source topics, keeping event times, at a chosen rate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaProducer

from churnwatch.settings import Settings
from churnwatch.streams.admin import client_options, ensure_topics, source_topics


@dataclass
class ProduceResult:
    sent: int = 0
    seconds: float = 0.0


def route(line: bytes, settings: Settings) -> tuple[str, bytes | None]:
    """(topic, key) of one log line. A line whose kind cannot be read goes to the orders
    topic, where it is dead-lettered like any other invalid input; a line without a usable
    customer id is sent without a key. Never raises: whatever a log holds must reach the
    worker, which says what is wrong with it.

    Records carry the time they are sent, not their event time (which the worker reads
    from the event itself): a history stamped with its own old times is deleted by a
    topic's time retention (7 days by default on Apache Kafka) at the broker's next check,
    before the worker reads it (measured: a 2024 log lost a third of its records 30 s
    after a Kafka 4.1 broker started)."""
    topics = {kind: topic for topic, kind in source_topics(settings).items()}
    orders = topics["order"]
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return orders, None
    if not isinstance(data, dict):
        return orders, None
    kind, cid = data.get("kind"), data.get("customer_id")
    topic = topics.get(kind, orders) if isinstance(kind, str) else orders
    key = cid.encode("utf-8", "replace") if isinstance(cid, str) and cid else None
    return topic, key


def produce(lines: Iterable[bytes], settings: Settings, *, rate: float = 0.0,
            stop: threading.Event | None = None,
            on_sent: Callable[[bytes, float, Any], None] | None = None) -> ProduceResult:
    """``rate`` events per second (0 = as fast as possible); ``stop`` ends early.
    ``on_sent(line, wall, metadata)`` runs, on the producer's thread, once the broker has
    stored a line: ``wall`` is when it was handed to the producer (``time.time()``),
    ``metadata`` kafka-python's ``RecordMetadata`` (topic, partition, offset). The
    latency benchmark's start of an event's journey.

    Missing topics are created first, as a worker creates them: on a cluster that does not
    create topics on first use (Apache Kafka with ``auto.create.topics.enable=false``, the
    test brokers), sending before any worker ran would time out on metadata."""
    ensure_topics(settings)
    producer = KafkaProducer(**client_options(settings), linger_ms=20, batch_size=262_144,
                             acks="all")
    result, began = ProduceResult(), time.monotonic()
    try:
        for line in lines:
            if stop is not None and stop.is_set():
                break
            body = line.rstrip(b"\r\n")
            if not body:
                continue
            topic, key = route(body, settings)
            future = producer.send(topic, value=body, key=key)
            if on_sent is not None:
                future.add_callback(partial(on_sent, body, time.time()))
            result.sent += 1
            if rate > 0:
                ahead = result.sent / rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)
        producer.flush()
    finally:
        producer.close()
    result.seconds = time.monotonic() - began
    return result


def read_lines(path: Path) -> Iterable[bytes]:
    with path.open("rb") as f:
        yield from f
