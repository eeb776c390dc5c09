"""Acking a batch of events once what they caused is on the broker, while the detect agent
goes on with the next batch: alerts and dead letters confirmed, then the touched states
written and confirmed, then the events acked, one batch waiting at a time. Why this order
and this overlap: RELIABILITY.md, "A batch acked only after what it caused is stored".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from faust.types.tuples import FutureMessage

from churnwatch.streams.delivery import DELIVERY_TIMEOUT, DeliveryFailed, delivered

log = logging.getLogger(__name__)

Write = tuple[Any, bytes, bytes]
"""(table, key, value): a state's bytes as they were when its batch ended."""


@dataclass(frozen=True)
class Batch:
    events: Sequence[Any]  # Faust events, acked last
    sent: Sequence[FutureMessage]  # the alerts and dead letters they caused
    writes: Sequence[Write]
    assignment: int  # the rebalance count it was taken in


class Acker:
    """Hands batches to the broker one at a time, in order.

    ``assignment()`` tells the current rebalance count: a batch taken before a revocation
    is never acked (its states are among what the worker forgot; the new owner reads its
    events again). ``put(table, key, value)`` writes one state and returns its delivery
    future. ``done(seconds)`` is told, when a batch is acked, how long that took."""

    def __init__(self, assignment: Callable[[], int],
                 put: Callable[[Any, bytes, bytes], FutureMessage],
                 done: Callable[[float], None], timeout: float = DELIVERY_TIMEOUT) -> None:
        self._assignment, self._put, self._done = assignment, put, done
        self._timeout = timeout
        self._tail: asyncio.Future[None] | None = None

    async def room(self) -> None:
        """Wait until the batch handed over last is acked (or given up by a revocation).
        Raises :class:`DeliveryFailed` if the broker refused one of its records, and
        keeps raising it: nothing is acked after a lost alert (a restart resends it)."""
        if self._tail is not None:
            await asyncio.shield(self._tail)

    def hand_over(self, batch: Batch) -> None:
        """Call only after :meth:`room`, with no await in between."""
        assert self._tail is None or self._tail.done(), "one batch at a time"
        self._tail = asyncio.ensure_future(self._complete(batch))

    async def _complete(self, batch: Batch) -> None:
        started = time.monotonic()
        pending = list(batch.sent)
        while pending:  # unconfirmed in time: wait again; a refusal raises
            confirmed = await delivered(pending, self._timeout)
            if batch.assignment != self._assignment():
                return
            pending = [] if confirmed else [f for f in pending if not f.done()]
        while True:  # the same bytes again until the broker has them all
            futures = [self._put(table, key, value) for table, key, value in batch.writes]
            try:
                confirmed = await delivered(futures, self._timeout)
            except DeliveryFailed as exc:
                log.warning("customer states not written (%s): writing them again", exc)
                confirmed = False
            if batch.assignment != self._assignment():
                return
            if confirmed:
                break
        for event in batch.events:
            event.ack()
        self._done(time.monotonic() - started)
