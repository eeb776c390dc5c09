"""Which event times are believable, so that one bad timestamp cannot move event time.

Event time is the newest event seen. A single event dated 9999-12-31 would move it to the
end of time: every event after it would be late, every silence deadline would pass at
once, and an alert storm would follow. So an event time must lie between a floor and a
ceiling, and must not run more than ``max_ahead`` past the newest accepted event time.

Live input is bounded by the clock instead (``wall``): no real event is from the future,
and a worker reads its topics and partitions in no event-time order (a backfill may run
one topic months ahead of another), so "ahead of the newest event seen" means nothing
there. Replay has no clock to ask and reads the log's own order, so it uses the newest
accepted event time.

A real stream can fall silent for longer than ``max_ahead`` (a shop closed for the
summer). Then the events after the gap are all "ahead"; once ``quorum`` distinct
customers have sent such events, time is taken to have moved on and events are accepted
again. A lone outlier never gathers a quorum: the memory of refused customers is cleared
after ``PATIENCE`` accepted events. Everything here is driven by the input's order, never
the wall clock, except the optional live check against ``wall``.

Known limit: the first event anchors event time. If it is itself an outlier inside the
floor and ceiling, only the live wall-clock check catches it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from churnwatch.config import EventTimeSettings
from churnwatch.models.alert import rfc3339

PATIENCE = 1000
"""Accepted events after which customers refused as "ahead" are forgotten."""


class EventTimeGuard:
    def __init__(self, settings: EventTimeSettings) -> None:
        self.earliest = settings.earliest.timestamp()
        self.latest = settings.latest.timestamp()
        self.max_ahead = settings.max_ahead.total_seconds()
        self.max_ahead_of_wall = settings.max_ahead_of_wall.total_seconds()
        self.quorum = settings.quorum
        self.newest = -math.inf
        """the newest accepted event time"""
        self._ahead: set[str] = set()  # customers refused as ahead, not yet forgotten
        self._since_first_ahead = 0

    def refuse(self, ts: float, customer_id: str, wall: float | None = None) -> str | None:
        """Why this event time is not believable, or None to accept it (and remember it).
        ``wall``: the wall clock, for live input only; it replaces the bound relative to
        the newest event time."""
        if not self.earliest <= ts <= self.latest:
            return (f"occurred_at {_time(ts)} is outside the accepted range "
                    f"{_time(self.earliest)} to {_time(self.latest)}")
        if wall is not None:
            if ts > wall + self.max_ahead_of_wall:
                return (f"occurred_at {_time(ts)} is more than "
                        f"{_span(self.max_ahead_of_wall)} ahead of the clock")
        elif self.newest > -math.inf and ts > self.newest + self.max_ahead:
            self._ahead.add(customer_id)
            if len(self._ahead) < self.quorum:
                return (f"occurred_at {_time(ts)} is more than "
                        f"{_span(self.max_ahead)} ahead of the newest event time "
                        f"{_time(self.newest)}")
            self._forget()  # enough customers agree: the stream moved on
        elif self._ahead:
            self._since_first_ahead += 1
            if self._since_first_ahead >= PATIENCE:
                self._forget()
        self.newest = max(self.newest, ts)
        return None

    def _forget(self) -> None:
        """Start afresh: patience counts from the next customer refused as ahead."""
        self._ahead.clear()
        self._since_first_ahead = 0


def _time(ts: float) -> str:
    return rfc3339(datetime.fromtimestamp(ts, UTC))


def _span(seconds: float) -> str:
    days = seconds / 86_400
    return f"{days:g} days" if days >= 1 else f"{seconds / 3600:g} hours"
