"""Event time that no small group of customers can move: the time a share of the
customers active recently have reached (:class:`Census`, :func:`solve`; merged across
partitions by :func:`merged`), behind cheap refusals of unbelievable times
(:class:`EventTimeGuard`). Why, and why no refusal may depend on event time itself:
RELIABILITY.md, "Event time no small group can move".
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from itertools import accumulate
from typing import cast

from churnwatch.models.alert import rfc3339
from churnwatch.settings import EventTimeSettings


class Census:
    """Each customer's newest event time, and event time from them (:func:`solve`).

    "Active recently" at a time t: the customers whose newest time is on or after the
    day ``window_days`` before t's day (whole UTC days, so that per-day counts, which add
    up across partitions, answer it exactly: :class:`Summary`).

    The times are kept sorted per UTC day: the answer and the counts it needs lie within
    the last ``window_days`` days, so each is a walk over a few days from the newest, and
    a customer's update touches one or two small lists (a sorted list of all customers
    cost a quarter of replay's time in index upkeep at 30,000 customers).
    """

    __slots__ = ("_active", "_by_day", "_days", "_from", "_newest", "_ratio", "_time",
                 "floor", "share", "window_days")

    def __init__(self, share: float, floor: int, window_days: int,
                 pairs: Iterable[tuple[str, float]] = ()) -> None:
        self.share = share
        self.floor = floor
        self.window_days = window_days
        self._ratio = ratio(share)
        self._newest: dict[str, float] = {}
        self._by_day: dict[int, list[float]] = {}  # UTC day -> newest times then, sorted
        self._days: list[int] = []  # the days in _by_day, sorted
        self._time: float | None = None  # cached answer, None after a change
        self._from = -math.inf  # where the next climb may start: at or below the answer
        self._active: dict[int, int] = {}
        """Customers on a day or later, for the last few days asked about, kept up to
        date: a climb of ``solve`` asks about two or three days in turn."""
        for customer, ts in pairs:
            self.observe(customer, ts)

    def observe(self, customer: str, ts: float) -> None:
        old = self._newest.get(customer)
        day = _day(ts)
        active = self._active
        if old is not None:
            if ts <= old:
                return
            self._moved(old, ts)
            old_day = _day(old)
            for since in active:
                active[since] += (day >= since) - (old_day >= since)
            times = self._by_day[old_day]
            del times[bisect_left(times, old)]
            if not times:
                del self._by_day[old_day]
                del self._days[bisect_left(self._days, old_day)]
        else:
            for since in active:
                active[since] += day >= since
            self._time, self._from = None, -math.inf  # one more customer: every need moves
        self._newest[customer] = ts
        same_day = self._by_day.get(day)
        if same_day is None:
            self._by_day[day] = [ts]
            insort(self._days, day)
        else:
            insort(same_day, ts)

    def _moved(self, old: float, ts: float) -> None:
        """What a known customer moving from ``old`` to ``ts`` does to the cached answer
        ``t``. The answer is the least ``t`` at which fewer than ``need(t)`` customers are
        past it. The move changes no count of customers active since a day before
        ``old``'s, so while ``need`` is asked only of such days (``day(t) - window <=
        day(old)``) no time below ``t`` can become an answer: ``t`` stays the answer when
        the customer is past it both before and after, or neither; if the customer
        passed it, the climb (:func:`solve`) goes on from ``t``. Otherwise it starts over.
        Every line of an in-order log moves its customer, so this spares most of the
        climb's steps. Between two answers the climb's start is kept by the same test."""
        t = self._time
        bound = self._from if t is None else t
        if bound == -math.inf:  # nothing to keep, or too few customers: a move adds none
            return
        if _day(bound) - self.window_days > _day(old):
            self._time, self._from = None, -math.inf
        elif t is not None and old <= t < ts:
            self._time, self._from = None, t

    @classmethod
    def of(cls, rule: EventTimeSettings) -> Census:
        """An empty census with the settings' rule."""
        return cls(rule.share, rule.quorum, rule.active_days)

    def __len__(self) -> int:
        return len(self._newest)

    def _nth(self, j: int) -> float:
        """The j-th newest time (1-based, at most ``len(self)``)."""
        by_day = self._by_day
        for day in reversed(self._days):
            times = by_day[day]
            if j <= len(times):
                return times[-j]
            j -= len(times)
        raise IndexError(j)

    def _active_since(self, day: int | None) -> int:
        """Customers whose newest time is on ``day`` or later (None: all of them). The
        days last asked about are kept counted as customers move: the answers stay the
        same for a day."""
        if day is None:
            return len(self._newest)
        count = self._active.get(day)
        if count is None:
            if len(self._active) >= ACTIVE_DAYS_KEPT:
                del self._active[next(iter(self._active))]
            by_day = self._by_day
            days = self._days
            count = self._active[day] = sum(len(by_day[d])
                                            for d in days[bisect_left(days, day):])
        return count

    @property
    def time(self) -> float:
        """Event time: -inf until enough customers have been seen."""
        if self._time is None:
            n = len(self._newest)
            self._time = solve(self._nth, n, self._active_since, n, self._ratio, self.floor,
                               self.window_days, self._from)[0]
        return self._time

    @property
    def newest(self) -> float:
        """The newest time any customer has reached."""
        return self._by_day[self._days[-1]][-1] if self._days else -math.inf

    def end(self) -> float:
        """Where event time stands once all input has been seen (:func:`end_of`)."""
        return end_of(self.time, len(self._newest), self.floor, self.newest)

    def pairs(self) -> list[tuple[str, float]]:
        """Every customer and its newest time."""
        return list(self._newest.items())

    def summary(self, since: float) -> Summary:
        """What a partition's clock needs of this census to merge it with the others:
        every time from ``since`` on, exactly, and the counts per day."""
        by_day = self._by_day
        top: list[float] = []
        first = -math.inf if since == -math.inf else _day(since)
        for day in reversed(self._days):
            if day < first:
                break
            top += [t for t in reversed(by_day[day]) if t >= since]
        return Summary(top, since, [(d, len(by_day[d])) for d in self._days],
                       len(self._newest))


@dataclass(frozen=True)
class Summary:
    """One partition's census, as its clock needs it from the others: the customers'
    newest times from ``since`` on (newest first), exactly, and how many customers have
    their newest time on each day (``days``, sorted; ``total`` in all). Customers are
    disjoint across partitions, so summaries merge by adding up (:func:`merged`)."""

    top: list[float]
    since: float
    days: list[tuple[int, int]]
    total: int

    def to_json(self) -> list[object]:
        return [self.top, None if self.since == -math.inf else self.since,
                self.days, self.total]

    @classmethod
    def from_json(cls, body: list[object]) -> Summary:
        top, since, days, total = body
        return cls(list(cast(list[float], top)),
                   -math.inf if since is None else float(cast(float, since)),
                   [(d, c) for d, c in cast(list[list[int]], days)], int(cast(int, total)))


@dataclass(frozen=True)
class Merged:
    """Event time over several partitions' summaries."""

    time: float
    end: float
    certain: bool
    """False when some partition's list did not reach far enough back to know the answer
    exactly: ``time`` is then a lower bound, and ``since`` says from where lists are
    needed."""
    since: float


def merged(summaries: Iterable[Summary], rule: EventTimeSettings) -> Merged:
    """The rule on the union of partitions' censuses: exactly replay's answer when every
    list reaches back far enough; else a lower bound (so never ahead of replay's)."""
    parts = list(summaries)
    exact_from = max((p.since for p in parts), default=-math.inf)
    top = sorted((t for p in parts for t in p.top if t >= exact_from), reverse=True)
    counts: dict[int, int] = {}
    for p in parts:
        for day, count in p.days:
            counts[day] = counts.get(day, 0) + count
    days = sorted(counts, reverse=True)  # newest first, with running totals
    running = list(accumulate(counts[d] for d in days))
    total = running[-1] if running else 0
    ascending = days[::-1]

    def nth(j: int) -> float:
        if j <= len(top):
            return top[j - 1]
        return days[bisect_left(running, j)] * DAY  # a lower bound: the start of its day

    def active_since(day: int | None) -> int:
        if day is None:
            return total
        older = len(ascending) - bisect_left(ascending, day)  # days before it do not count
        return running[older - 1] if older else 0

    time, certain = solve(nth, len(top), active_since, total, ratio(rule.share), rule.quorum,
                          rule.active_days)
    newest = top[0] if top else -math.inf
    if total < rule.quorum and total and not top:  # the end is the newest time, not in any list
        certain = False
    return Merged(time, end_of(time, total, rule.quorum, newest), certain,
                  time if certain else min(time, exact_from))


def solve(nth: Callable[[int], float], exact: int, active_since: Callable[[int | None], int],
          known: int, share: tuple[int, int], floor: int, window_days: int,
          start: float = -math.inf) -> tuple[float, bool]:
    """The rule: event time is the least time ``t`` such that fewer than ``need(t)``
    customers are past it, where ``need(t)`` is ``floor``, or ``share`` of the customers
    active recently at ``t`` if more. Also whether the answer is exact.
    ``nth(j)``: the j-th newest customer time (1-based, j up to ``known``), exactly for
    j up to ``exact`` and a lower bound beyond; ``active_since(day)``: the customers whose
    newest time is on that UTC day or later (None: all of them).

    Found by a climb from the start of time, where every customer counts: the newest
    time a share of all of them reached, then a share of those active recently at that
    time, and so on until it stands still (``need`` only shrinks as ``t`` grows, so the
    climb never passes the answer; ``start``, if given, must be at or below the answer).
    It never leaves the real customers for a smaller
    group far ahead: at every step that group is less than the share of those counted;
    while a group alone far ahead, counting only itself, would look like a majority. Why:
    RELIABILITY.md, "Event time no small group can move"."""
    num, den = share
    t = start
    while True:
        active = active_since(None if t == -math.inf else _day(t) - window_days)
        need = max(floor, -(-num * active // den))  # exactly, in integers
        if need > known:
            return -math.inf, True
        reached = nth(need)
        if reached <= t:
            return t, need <= exact
        if need > exact:
            return reached, False
        t = reached


def ratio(share: float) -> tuple[int, int]:
    """``share`` as a fraction in lowest terms: 0.07 of 100 customers is 7, not 8."""
    exact = Fraction(share).limit_denominator(1_000_000)
    return exact.numerator, exact.denominator


def end_of(time: float, customers: int, floor: int, newest: float) -> float:
    """Where event time stands once all input has been seen: ``time``, or the newest
    time if fewer customers than ``floor`` ever sent anything (with so few there is no
    majority to protect, and a test log of one customer must run)."""
    return time if customers >= floor else newest


DAY = 86_400
ACTIVE_DAYS_KEPT = 4


def _day(ts: float) -> int:
    return math.floor(ts / DAY)


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
