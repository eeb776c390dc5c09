"""A batch topic as Faust's conductor uses it (streams/batches.py), without a broker: what
the conductor puts is taken in order, a full batch makes the conductor wait instead of
dropping the event, and a failure stops whoever takes."""

from __future__ import annotations

import asyncio

import faust
import pytest

from churnwatch.streams.batches import BatchTopic


def _topic(limit: int) -> BatchTopic:
    app = faust.App("batches-test", broker="kafka://127.0.0.1:1")
    return BatchTopic(app, topics=["t"], limit=limit, key_type=bytes, value_type=bytes)


def test_the_conductor_waits_on_a_full_batch_and_nothing_is_lost() -> None:
    async def run() -> tuple[list[object], bool, list[object], list[object]]:
        topic = _topic(limit=2)
        queue = topic.queue
        for n in range(2):  # what the conductor does while there is room
            queue.put_nowait_enhanced(n, on_pressure_high=None, on_pressure_drop=None)
        assert queue.full()
        waiting = asyncio.ensure_future(topic.put(2))  # the conductor's path when full
        await asyncio.sleep(0.05)
        blocked = not waiting.done()
        first = await queue.take(most=10)
        await asyncio.wait_for(waiting, 1)
        second = await queue.take(most=1)
        queue.put_nowait_enhanced(3)
        queue.put_nowait_enhanced(4)
        return first, blocked, second, await queue.take(most=1) + await queue.take(most=5)

    first, blocked, second, rest = asyncio.run(run())
    assert (first, blocked, second, rest) == ([0, 1], True, [2], [3, 4])


def test_take_waits_for_an_event_and_a_failure_stops_it_at_once() -> None:
    async def run() -> tuple[bool, list[object]]:
        queue = _topic(limit=10).queue
        taking = asyncio.ensure_future(queue.take(most=10))
        await asyncio.sleep(0.05)
        waited = not taking.done()
        queue.put_nowait_enhanced("e")
        got = await asyncio.wait_for(taking, 1)
        stopped = asyncio.ensure_future(queue.take(most=10))
        await asyncio.sleep(0.05)
        queue.fail(RuntimeError("broker refused"))
        with pytest.raises(RuntimeError, match="broker refused"):
            await asyncio.wait_for(stopped, 1)
        return waited, got

    assert asyncio.run(run()) == (True, ["e"])


def test_clearing_drops_what_was_not_taken_and_frees_the_conductor() -> None:
    async def run() -> tuple[bool, list[object]]:
        topic = _topic(limit=1)
        topic.queue.put_nowait_enhanced("revoked")
        waiting = asyncio.ensure_future(topic.put("after"))
        await asyncio.sleep(0.05)
        topic.queue.clear()
        await asyncio.wait_for(waiting, 1)
        return waiting.done(), await topic.queue.take(most=5)

    assert asyncio.run(run()) == (True, ["after"])
