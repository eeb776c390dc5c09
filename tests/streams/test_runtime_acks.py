"""What the detect agent sends for an event must be on the broker before the event is
acked (streams/runtime.py ``_flush``): its dead letter as much as its alerts, or a crash
between the ack and the send loses the dead letter. No broker needed: nothing is sent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import orjson

from churnwatch.config import Settings
from churnwatch.streams.app import create_app
from churnwatch.streams.metrics import Metrics
from churnwatch.streams.runtime import KIND_HEADER, Runtime
from tests.helpers import DAY, T0, at


def _order(n: int, day: float) -> SimpleNamespace:
    raw = orjson.dumps({"kind": "order", "event_id": f"e{n}", "customer_id": "c1",
                        "occurred_at": at(day), "order_id": f"o{n}", "amount": 10})
    return SimpleNamespace(value=raw, topic="churnwatch-events", partition=0, offset=n)


def test_a_late_events_dead_letter_is_waited_for_before_its_ack(tmp_path: Path) -> None:
    settings = Settings(kafka={"brokers": "127.0.0.1:9"}, runtime={"data_dir": tmp_path})

    async def run() -> tuple[int, int, int]:
        runtime = Runtime(settings, create_app(settings), Metrics(), frozenset())
        detector = runtime._load(0)  # as the detect agent adopts a partition
        headers = {KIND_HEADER: b"order"}
        runtime._take(detector, _order(0, 10), headers)
        detector.advance(T0 + 40 * DAY)  # day 10 is decided
        waiting = len(runtime._sent)
        runtime._take(detector, _order(1, 5), headers)  # behind what c1 has seen: late
        return waiting, len(runtime._sent), detector.stats.late

    assert asyncio.run(run()) == (0, 1, 1)
