"""Acks wait for the broker's confirmation of every record (streams/delivery.py), because
Faust's ProducerBuffer.flush() does not wait for its buffer to empty."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from faust.transport.producer import ProducerBuffer

from churnwatch.streams.delivery import DeliveryFailed, delivered


class _SlowBuffer(ProducerBuffer):
    """Faust's buffer with a send that takes 0.3 s, as on a busy machine."""

    def __init__(self) -> None:
        super().__init__()
        self.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
        self.sent = 0

    async def _send_pending(self, fut: Any) -> None:
        await asyncio.sleep(0.3)
        self.sent += 1


def test_fausts_flush_returns_before_its_records_are_sent() -> None:
    """Why the worker does not trust it (if Faust fixes this, the test says so)."""
    async def run() -> int:
        buffer = _SlowBuffer()
        for n in range(5):
            buffer.pending.put_nowait(n)
        await buffer.start()
        await buffer.flush()
        sent = buffer.sent
        buffer.pending = asyncio.Queue()  # drop the rest: stop at once
        await buffer.stop()
        return sent

    assert asyncio.run(run()) < 5


def test_delivered_waits_for_every_confirmation() -> None:
    async def run() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[object]] = [loop.create_future() for _ in range(3)]
        for n, fut in enumerate(futures):
            loop.call_later(0.1 * (n + 1), fut.set_result, n)
        waited = await delivered(futures, timeout=5)
        return waited, all(f.done() for f in futures)

    assert asyncio.run(run()) == (True, True)


def test_an_unconfirmed_record_is_not_delivered_and_a_refused_one_raises() -> None:
    async def run() -> tuple[bool, bool, str]:
        loop = asyncio.get_running_loop()
        ok: asyncio.Future[object] = loop.create_future()
        ok.set_result(1)
        never: asyncio.Future[object] = loop.create_future()
        failed: asyncio.Future[object] = loop.create_future()
        failed.set_exception(RuntimeError("broker said no"))
        waiting = await delivered([ok, never], timeout=0.2)
        nothing = await delivered([], timeout=0)
        with pytest.raises(DeliveryFailed) as refused:
            await delivered([ok, failed], timeout=1)
        return waiting, nothing, str(refused.value)

    waiting, nothing, refused = asyncio.run(run())
    assert (waiting, nothing) == (False, True)
    assert "1 of 2 records refused" in refused and "broker said no" in refused
