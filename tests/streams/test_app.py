"""The Faust application's settings that protect records (streams/app.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

from faust.types import TP

from churnwatch.settings import Settings
from churnwatch.streams.app import create_app


def test_resuming_the_flow_keeps_what_the_streams_have_queued(tmp_path: Path) -> None:
    """Faust resumes the flow after it resumed fetching and seeked; mode's resume would
    clear the stream queues then and drop records the consumer has moved past. A
    revocation must still clear them (stale records of partitions gone elsewhere)."""
    settings = Settings(kafka={"brokers": "127.0.0.1:9"}, runtime={"data_dir": tmp_path})

    async def run() -> tuple[int, int]:
        app = create_app(settings)
        queue = app.FlowControlQueue(maxsize=10, clear_on_resume=True)  # as a stream's
        app.flow_control.suspend()
        app.flow_control.resume()
        queue.put_nowait("fetched while Faust seeked")
        app.flow_control.resume()
        kept = queue.qsize()
        app.flow_control.suspend()
        app.flow_control.clear()  # what Faust does on revocation
        return kept, queue.qsize()

    assert asyncio.run(run()) == (1, 0)


class _Thread:
    """Stands in for Faust's consumer thread: the committed offsets aiokafka would return,
    and the partitions sent back to their beginning."""

    def __init__(self, committed: dict[TP, int | None]) -> None:
        self.committed, self.rewound = committed, set[TP]()

    async def seek_to_committed(self) -> dict[TP, int | None]:
        return self.committed

    async def seek_to_beginning(self, *partitions: TP) -> None:
        self.rewound.update(partitions)


def test_seeking_to_committed_rewinds_stream_partitions_nobody_committed(tmp_path: Path
                                                                         ) -> None:
    """aiokafka's seek_to_committed leaves a partition without a commit (or committed at
    0) where the consumer is; after Faust dropped records fetched during a recovery, that
    is past them. Those partitions go back to their beginning; committed ones and the
    changelogs (the recovery's) stay where they are."""
    settings = Settings(kafka={"brokers": "127.0.0.1:9"}, runtime={"data_dir": tmp_path})
    app = create_app(settings)
    changelog = app.Table("states", partitions=2).changelog_topic.get_topic_name()
    committed: dict[TP, int | None] = {
        TP("orders", 0): None, TP("orders", 1): 0, TP("orders", 2): 7, TP(changelog, 0): None}
    thread = _Thread(committed)
    cast(Any, app.consumer)._thread = thread

    returned = asyncio.run(app.consumer.seek_to_committed())

    assert returned == committed  # what Faust records as committed is unchanged
    assert thread.rewound == {TP("orders", 0), TP("orders", 1)}


def test_a_record_the_conductor_takes_at_once_is_handed_over_without_tasks(
        tmp_path: Path) -> None:
    """Faust's fetcher calls ``wait_first(on_message(record), flow suspended)`` per
    record; when the hand-over finishes without waiting, no task is made and the other
    coroutine is closed unstarted (no "never awaited" warning)."""
    settings = Settings(kafka={"brokers": "127.0.0.1:9"}, runtime={"data_dir": tmp_path})

    async def handed(record: str) -> str:
        return f"queued {record}"

    async def run() -> tuple[Any, int, bool]:
        consumer = create_app(settings).consumer
        suspended = asyncio.Event()
        other = suspended.wait()
        before = len(asyncio.all_tasks())
        first = handed("r1")
        results = await consumer.wait_first(first, other)
        tasks_made = len(asyncio.all_tasks()) - before
        return (results.done == [first], results.results, results.stopped), tasks_made, \
            other.cr_frame is None

    assert asyncio.run(run()) == ((True, ["queued r1"], False), 0, True)


def test_a_hand_over_that_waits_still_races_the_flows_suspension(tmp_path: Path) -> None:
    """A full queue makes the hand-over wait: it finishes when there is room, unless the
    flow is suspended first (a rebalance); then it is cancelled where it waits, and its
    cleanup runs, as Faust's task would be."""
    settings = Settings(kafka={"brokers": "127.0.0.1:9"}, runtime={"data_dir": tmp_path})

    async def run() -> tuple[list[Any], list[str]]:
        consumer = create_app(settings).consumer
        log: list[str] = []

        async def hand_over(room: asyncio.Future[None], record: str) -> str:
            try:
                await room
                log.append(f"queued {record}")
                return record
            finally:
                log.append(f"left {record}")

        room: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, room.set_result, None)
        waited = await consumer.wait_first(hand_over(room, "r1"), asyncio.Event().wait())

        suspended = asyncio.Event()
        asyncio.get_running_loop().call_later(0.01, suspended.set)
        never = asyncio.get_running_loop().create_future()
        cut = await consumer.wait_first(hand_over(never, "r2"), suspended.wait())
        for _ in range(3):  # the cancellation lands on the loop's next turns, as Faust's
            await asyncio.sleep(0)
        return [waited.results, cut.results, never.cancelled()], list(log)

    results, log = asyncio.run(run())
    assert results == [["r1"], [True], True]
    assert log == ["queued r1", "left r1", "left r2"]


def test_the_producer_is_idempotent_unless_the_settings_turn_it_off(tmp_path: Path) -> None:
    """Faust makes its producer idempotent only inside transactions; the worker's is, so
    a send retried after a lost response is stored once (``kafka.idempotent`` off for a
    cluster that refuses it). Every send waits for all in-sync replicas either way."""

    async def made(idempotent: bool) -> tuple[bool, int]:
        settings = Settings(kafka={"brokers": "127.0.0.1:9", "idempotent": idempotent},
                            runtime={"data_dir": tmp_path})
        producer = cast(Any, create_app(settings).producer)._new_producer()
        try:  # aiokafka's: a transaction manager keeps the producer id and sequences
            return producer._txn_manager is not None, producer._sender._acks
        finally:
            await producer.stop()

    assert (asyncio.run(made(True)), asyncio.run(made(False))) == ((True, -1), (False, -1))
