"""Send an event log into the source topics, keeping event times, at a chosen rate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaProducer

from churnwatch.config import Settings
from churnwatch.streams.admin import client_options, source_topics


@dataclass
class ProduceResult:
    sent: int = 0
    seconds: float = 0.0


def route(line: bytes, settings: Settings) -> tuple[str, bytes | None, int | None]:
    """(topic, key, timestamp ms) of one log line. A line whose kind cannot be read goes
    to the orders topic, where it is dead-lettered like any other invalid input; a line
    without a usable customer id or time is sent without a key or timestamp. Never raises:
    whatever a log holds must reach the worker, which says what is wrong with it."""
    topics = {kind: topic for topic, kind in source_topics(settings).items()}
    orders = topics["order"]
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return orders, None, None
    if not isinstance(data, dict):
        return orders, None, None
    kind, cid = data.get("kind"), data.get("customer_id")
    topic = topics.get(kind, orders) if isinstance(kind, str) else orders
    key = cid.encode("utf-8", "replace") if isinstance(cid, str) and cid else None
    return topic, key, _stamp(data.get("occurred_at"))


def _stamp(when: object) -> int | None:
    """A Kafka timestamp (ms since 1970) for ``occurred_at``, if it is one."""
    if not isinstance(when, str):
        return None
    try:
        stamp = int(datetime.fromisoformat(when).timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        return None
    return stamp if stamp >= 0 else None


def produce(lines: Iterable[bytes], settings: Settings, *, rate: float = 0.0,
            stop: threading.Event | None = None,
            on_sent: Callable[[bytes, float, Any], None] | None = None) -> ProduceResult:
    """``rate`` events per second (0 = as fast as possible); ``stop`` ends early.
    ``on_sent(line, wall, metadata)`` runs, on the producer's thread, once the broker has
    stored a line: ``wall`` is when it was handed to the producer (``time.time()``),
    ``metadata`` kafka-python's ``RecordMetadata`` (topic, partition, offset). The
    latency benchmark's start of an event's journey."""
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
            topic, key, stamp = route(body, settings)
            future = producer.send(topic, value=body, key=key, timestamp_ms=stamp)
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
