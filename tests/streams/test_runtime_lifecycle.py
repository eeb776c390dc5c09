"""The detect agent around rebalances and shutdown. It adopts a partition (rebuilds its
customers from the table) only once table recovery of the current assignment has ended,
and only if the partition is its own: a record that arrives earlier is left for the read
after the rebalance. Once Faust begins to shut down it sends and acks nothing more. No
broker needed: the consumer's assignment and Faust's recovery event are set by hand."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from churnwatch.models.state import CustomerState
from churnwatch.settings import Settings
from churnwatch.streams.app import create_app
from churnwatch.streams.metrics import Metrics
from churnwatch.streams.runtime import Runtime
from churnwatch.streams.store import partition_of


def test_a_partition_is_adopted_after_recovery_ends_and_only_while_assigned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(kafka={"brokers": "127.0.0.1:9"}, runtime={"data_dir": tmp_path})
    customer = next(c for c in (f"c{n}" for n in range(100))
                    if partition_of(c.encode(), settings.topics.partitions) == 0)

    async def run() -> list[Any]:
        runtime = Runtime(settings, create_app(settings), Metrics(), frozenset())
        events = runtime.events_topic
        assigned = {TP(events, 0)}
        monkeypatch.setattr(runtime.app.consumer, "assignment", lambda: assigned)
        app, recovery = runtime.app, runtime.app.tables.recovery

        def record(partition: int) -> SimpleNamespace:
            return SimpleNamespace(tp=TP(events, partition), partition=partition)

        seen: list[Any] = [runtime._adopt(record(0))]  # recovery has not ended
        runtime.table.data[customer.encode()] = CustomerState(seq=41).to_bytes()  # recovered
        recovery.signal_recovery_start.set()  # a newer rebalance is pending: not this one
        await app.on_rebalance_complete.send()
        seen.append(runtime._adopt(record(0)))
        recovery.signal_recovery_start.clear()
        await app.on_rebalance_complete.send()  # the tables of this assignment are read
        seen.append(runtime._adopt(record(1)))  # another worker's partition
        adopted = runtime._adopt(record(0))
        seen.append(adopted is not None and adopted.detector.states.get(customer).seq)
        await runtime.on_revoked(None, signal=None)
        seen.append(runtime._adopt(record(0)))  # a rebalance began: recovery again
        seen.append(runtime.metrics.deferred._value.get())
        return seen

    assert asyncio.run(run()) == [None, None, None, 41, None, 4]


def test_once_faust_begins_to_shut_down_nothing_more_is_sent_or_acked(
        tmp_path: Path) -> None:
    """Faust stops its agents and timers after the producer: a batch handed over then
    sent to a closed producer and crashed its buffer (a demo stopped by SIGTERM)."""
    settings = Settings(kafka={"brokers": "127.0.0.1:9"}, runtime={"data_dir": tmp_path})

    async def run() -> tuple[bool, int]:
        runtime = Runtime(settings, create_app(settings), Metrics(), frozenset())
        runtime._unacked.append(SimpleNamespace(ack=lambda: None))
        before = runtime._assignment
        await runtime.on_shutdown(None, signal=None)
        await runtime._flush()  # what the flush timer or the agent would do next
        return runtime.acker._tail is None, runtime._assignment - before

    assert asyncio.run(run()) == (True, 1)
