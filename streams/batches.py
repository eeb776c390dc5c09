"""Topics read in batches: Faust's consumer, conductor and commits, without agents.

An agent's stream takes records one at a time: an await, an event context and its
acking bookkeeping per record, which cost about what Faust's consumer itself costs
(bench/batch_worker_prototype.py: a conductor delivering into a plain list ran at
1.0-1.4x a no-op agent in five runs). Faust's conductor uses only ``full``,
``put_nowait_enhanced`` and ``put`` of a channel's queue, so a :class:`BatchTopic` gives
it a :class:`Batch` instead, and one task takes everything delivered so far at once.
Nothing is acked here: whoever takes a batch acks its events when what they caused is
stored. A batch is never cleared by Faust's flow control; the worker clears it when its
partitions are revoked (the next owner reads the unacked records again).
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from faust.types import EventT


class Batch:
    """Events delivered by the conductor and not yet taken, in delivery order."""

    def __init__(self, limit: int) -> None:
        """``limit``: beyond it the conductor waits (back-pressure on the consumer)."""
        self.limit = limit
        self._items: list[EventT[bytes]] = []
        self._ready = asyncio.Event()
        self._space = asyncio.Event()
        self._failed: Exception | None = None

    def full(self) -> bool:
        return len(self._items) >= self.limit

    def put_nowait_enhanced(self, value: EventT[bytes], **_pressure_callbacks: Any) -> None:
        self._items.append(value)
        self._ready.set()

    async def put(self, value: EventT[bytes]) -> None:
        """The conductor's way in when the batch is full."""
        while self.full():
            self._space.clear()
            await self._space.wait()
        self.put_nowait_enhanced(value)

    async def take(self, most: int) -> list[EventT[bytes]]:
        """Up to ``most`` of the events delivered so far, oldest first; waits for one.
        Raises what :meth:`fail` was given."""
        while not self._items and self._failed is None:
            self._ready.clear()
            await self._ready.wait()
        if self._failed is not None:
            raise self._failed
        taken, self._items = self._items[:most], self._items[most:]
        self._space.set()
        return taken

    def fail(self, exc: Exception) -> None:
        """Whoever takes from this batch stops with ``exc``, at once."""
        self._failed = exc
        self._ready.set()

    def clear(self) -> None:
        self._items = []
        self._space.set()


class BatchTopic(faust.Topic):
    """A topic whose records the conductor delivers into a :class:`Batch`."""

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch = Batch(limit)

    @property
    def queue(self) -> Any:  # Faust types it as its ThrowableQueue
        return self.batch

    async def put(self, event: EventT[Any]) -> None:
        """The conductor's way in when the batch is full. Faust's own ``Topic.put``
        refuses a topic nobody iterates, and the event was then lost (seen: 18,195
        records of a backlog never detected)."""
        await self.batch.put(event)
