"""Event time that no single customer can move: the newest time that ``quorum`` distinct
customers have reached (:class:`Quorum`), behind cheap refusals of unbelievable times
(:class:`EventTimeGuard`). Why, and why no refusal may depend on event time itself:
RELIABILITY.md, "Event time no customer can move".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

from churnwatch.models.alert import rfc3339
from churnwatch.settings import EventTimeSettings


class Quorum:
    """The newest event time that at least ``size`` distinct customers have reached.

    Each customer's newest time only grows, so the ``size`` customers with the newest
    times are enough to know the answer: O(size) memory, whatever the number of customers.
    """

    __slots__ = ("_top", "size")

    def __init__(self, size: int, pairs: Iterable[tuple[str, float]] = ()) -> None:
        self.size = size
        self._top: list[tuple[str, float]] = []  # (customer, newest time), newest first
        for customer, ts in pairs:
            self.observe(customer, ts)

    def observe(self, customer: str, ts: float) -> None:
        top = self._top
        for i, (who, seen) in enumerate(top):
            if who == customer:
                if ts > seen:
                    top[i] = (customer, ts)
                    top.sort(key=_newest_first)
                return
        if len(top) < self.size:
            top.append((customer, ts))
        elif ts > top[-1][1]:
            top[-1] = (customer, ts)
        else:
            return
        top.sort(key=_newest_first)

    @property
    def reached(self) -> bool:
        """Whether ``size`` distinct customers have been seen at all."""
        return len(self._top) >= self.size

    @property
    def time(self) -> float:
        """The newest time ``size`` customers have reached; -inf until there are that many."""
        return self._top[-1][1] if self.reached else -math.inf

    @property
    def newest(self) -> float:
        """The newest time any customer has reached."""
        return self._top[0][1] if self._top else -math.inf

    def end(self) -> float:
        """Where event time stands once all input has been seen: the quorum's time, or
        the newest time if fewer customers than the quorum ever sent anything (with so
        few there is no majority to protect, and a test log of one customer must run)."""
        return self.time if self.reached else self.newest

    def pairs(self) -> list[tuple[str, float]]:
        """What to merge elsewhere (``Quorum(size, pairs)``) for the same answer."""
        return list(self._top)


def _newest_first(pair: tuple[str, float]) -> tuple[float, str]:
    return -pair[1], pair[0]


class EventTimeGuard:
    """The cheap first lines: the floor and the ceiling, and the clock for live input."""

    def __init__(self, settings: EventTimeSettings) -> None:
        self.earliest = settings.earliest.timestamp()
        self.latest = settings.latest.timestamp()
        self.max_ahead_of_wall = settings.max_ahead_of_wall.total_seconds()

    def refuse(self, ts: float, wall: float | None = None) -> str | None:
        """Why this event time is not believable, or None. ``wall``: the wall clock, for
        live input only (no real event is from the future)."""
        if not self.earliest <= ts <= self.latest:
            return (f"occurred_at {_time(ts)} is outside the accepted range "
                    f"{_time(self.earliest)} to {_time(self.latest)}")
        if wall is not None and ts > wall + self.max_ahead_of_wall:
            return (f"occurred_at {_time(ts)} is more than "
                    f"{_span(self.max_ahead_of_wall)} ahead of the clock")
        return None


LATE_REASON = "late: its customer was already evaluated past this event time"
"""Why the detector refused an event behind its customer (``Admission.LATE``)."""


def ahead_reason(ts: float, event_time: float, max_held: int) -> str:
    """Why the detector refused to hold an event (``Admission.AHEAD``)."""
    return (f"occurred_at {_time(ts)} is ahead of event time {_time(event_time)} (the newest "
            f"time a quorum of customers has reached) and its customer already has "
            f"{max_held} events waiting for it")


def _time(ts: float) -> str:
    return rfc3339(datetime.fromtimestamp(ts, UTC))


def _span(seconds: float) -> str:
    days = seconds / 86_400
    return f"{days:g} days" if days >= 1 else f"{seconds / 3600:g} hours"
