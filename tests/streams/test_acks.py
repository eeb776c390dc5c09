"""The acker (streams/acks.py): a batch's events are acked only after its alerts, then
its states, are confirmed; the agent goes on meanwhile; a revocation or a refusal stops
the ack. Futures stand in for the broker's confirmations."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from churnwatch.streams.acks import Acker, Batch
from churnwatch.streams.delivery import DeliveryFailed


class Event:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    def ack(self) -> None:
        self.log.append(f"ack {self.name}")


class Broker:
    """Records what is written, and confirms a write when told to."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.writes: list[asyncio.Future[Any]] = []
        self.assignment = 0

    def put(self, table: Any, key: bytes, value: bytes) -> Any:
        self.log.append(f"put {key.decode()}={value.decode()}")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.writes.append(future)
        return future

    def acker(self, done: list[float]) -> Acker:
        return Acker(lambda: self.assignment, self.put, done.append)


async def _turns() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_states_wait_for_the_alerts_and_events_for_the_states() -> None:
    async def run() -> tuple[list[str], list[str], list[float]]:
        log: list[str] = []
        broker, done = Broker(log), []
        acker = broker.acker(done)
        alert: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await acker.room()
        acker.hand_over(Batch([Event(log, "e1"), Event(log, "e2")], [alert],
                              [(None, b"c1", b"v1")], 0))
        await _turns()
        before_alert = list(log)
        alert.set_result(None)
        await _turns()
        assert log == ["put c1=v1"] and not done  # written, not yet confirmed
        broker.writes[0].set_result(None)
        await acker.room()
        return before_alert, log, done

    before_alert, log, done = asyncio.run(run())
    assert before_alert == []
    assert log == ["put c1=v1", "ack e1", "ack e2"]
    assert len(done) == 1


def test_the_next_batch_is_handed_over_only_after_the_one_before_is_acked() -> None:
    async def run() -> list[str]:
        log: list[str] = []
        broker = Broker(log)
        acker = broker.acker([])
        await acker.room()
        acker.hand_over(Batch([Event(log, "e1")], [], [(None, b"c1", b"old")], 0))
        second = asyncio.ensure_future(acker.room())
        await _turns()
        assert not second.done()  # the agent waits here, batch 2 in hand
        broker.writes[0].set_result(None)
        await second
        acker.hand_over(Batch([Event(log, "e2")], [], [(None, b"c1", b"new")], 0))
        await _turns()
        broker.writes[1].set_result(None)
        await acker.room()
        return log

    assert asyncio.run(run()) == ["put c1=old", "ack e1", "put c1=new", "ack e2"]


def test_a_batch_taken_before_a_revocation_is_never_acked() -> None:
    async def run() -> tuple[list[str], list[float]]:
        log: list[str] = []
        broker, done = Broker(log), []
        acker = broker.acker(done)
        alert: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        acker.hand_over(Batch([Event(log, "e1")], [alert], [(None, b"c1", b"v1")], 0))
        await _turns()
        broker.assignment += 1  # revoked while the alert is on its way
        alert.set_result(None)
        await acker.room()
        return log, done

    assert asyncio.run(run()) == ([], [])


def test_a_refused_alert_stops_every_later_ack() -> None:
    async def run() -> tuple[int, list[str]]:
        log: list[str] = []
        broker = Broker(log)
        acker = broker.acker([])
        alert: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        alert.set_exception(RuntimeError("record too large"))
        acker.hand_over(Batch([Event(log, "e1")], [alert], [(None, b"c1", b"v1")], 0))
        raised = 0
        for _ in range(2):
            with pytest.raises(DeliveryFailed):
                await acker.room()
            raised += 1
        return raised, log

    assert asyncio.run(run()) == (2, [])


def test_states_not_confirmed_in_time_are_written_again() -> None:
    async def run() -> list[str]:
        log: list[str] = []
        broker = Broker(log)
        acker = Acker(lambda: 0, broker.put, lambda _: None, timeout=0.01)
        acker.hand_over(Batch([Event(log, "e1")], [], [(None, b"c1", b"v1")], 0))
        while len(broker.writes) < 2:  # the first write times out, unconfirmed
            await asyncio.sleep(0.01)
        broker.writes[1].set_result(None)
        await acker.room()
        return log

    assert asyncio.run(run()) == ["put c1=v1", "put c1=v1", "ack e1"]
