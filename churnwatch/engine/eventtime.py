"""Event time that no single customer can move.

Event time is not the newest event seen: one device with its clock months fast, one test
account with a future date, would then move every customer's time, make everyone else's
events late and release every silence deadline at once (an alert storm). Instead event
time is the newest time that at least ``quorum`` distinct customers have reached
(:class:`Quorum`). A customer ahead of it is not refused: its events wait in its pending
list until event time gets there, so a legitimate early event loses nothing. Fewer than
``quorum`` customers can hold time back (never push it), so a quiet period of any length
is crossed as soon as ``quorum`` customers come back.

Cheap first lines stay in front (:class:`EventTimeGuard`): an event time outside the floor
and ceiling is refused, and a live worker refuses events too far ahead of the wall clock.
No refusal may depend on event time itself: a customer whose clock runs *behind* can hold
the quorum's time back, and a rule like "refuse what is far ahead of event time" would then
refuse everyone else's events. What one customer can park ahead is bounded per customer
instead (``max_held`` events), which touches that customer alone. Everything here is driven
by the input, never the wall clock, except the optional live check against ``wall``.
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
