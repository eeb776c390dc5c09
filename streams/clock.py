"""Event time across partitions: the watermark the streaming detector advances to.

Ingest workers tell, in ticks, how far event time has got on each source partition they
read. The watermark is the *slowest* source partition minus the allowed lateness, so a
lagging partition holds time back instead of having its events arrive late. Every
partition of every source topic must have been reported before time moves at all: with
several workers each tick covers only the reporter's share, and a share not yet heard
from may still hold the oldest events. A source partition that has sent nothing for
``idle_after`` wall-clock seconds stops holding time back (live mode only; replay needs
no ticks) - but only once it is caught up: a partition waiting its turn in the consumer's
fetch loop is behind, not idle. When a partition changes owner, the new owner's reports
replace the old one's, except where the new owner has seen no event of it yet: that
says nothing about the events before its committed offset, so what the old owner
reported stands. (Replaced by "nothing", the newest event of a partition finished just
before a crash was forgotten, and event time never reached it again.)
"""

from __future__ import annotations

import math
from collections.abc import Collection

import orjson


class SourceClock:
    """Collects tick reports; answers with the watermark."""

    def __init__(self, lateness: float, expected: Collection[str],
                 held: float = -math.inf) -> None:
        """``expected``: the source partitions (``topic/partition``) known at start. Any
        partition a tick mentions later (one added to a topic) is waited for too.
        ``held``: the newest event time the partition's detector already held when it was
        adopted (restored from the changelog). When every source is idle and caught up,
        all there is has been seen, that included: a restarted worker with nothing new to
        read, whose ticks all say "nothing seen", must still release what the previous
        owner left pending (the reports of the old events may be behind the committed
        offset, never to be read again)."""
        self.lateness = lateness
        self._held = held
        self._expected = set(expected)
        self._max: dict[str, float | None] = {}  # newest event time seen per source
        self._idle: dict[str, bool] = {}
        self._watermark: float | None = None  # asked for after every message: cached

    def report(self, tick: bytes) -> None:
        for source, (max_time, idle) in orjson.loads(tick).items():
            self._expected.add(source)
            if max_time is not None or source not in self._max:
                self._max[source] = max_time
            self._idle[source] = bool(idle)
        self._watermark = None

    def watermark(self) -> float:
        if self._watermark is None:
            self._watermark = self._compute()
        return self._watermark

    def _compute(self) -> float:
        if not self._expected or any(s not in self._max for s in self._expected):
            return -math.inf
        active = [self._max[s] for s in self._expected if not self._idle[s]]
        if any(t is None for t in active):
            return -math.inf  # a partition that has said nothing yet may hold old events
        if active:
            return min(t for t in active if t is not None) - self.lateness
        # every source is idle and caught up: all there is has been seen
        seen = max((t for t in self._max.values() if t is not None), default=-math.inf)
        return max(seen, self._held) - self.lateness


class SourceProgress:
    """Ingest side: how far each source partition has got, in event and wall time."""

    def __init__(self, idle_after: float) -> None:
        self.idle_after = idle_after
        self._max: dict[str, float] = {}
        self._last_wall: dict[str, float] = {}
        self._next_offset: dict[str, int] = {}

    def observe(self, source: str, event_time: float) -> None:
        self._max[source] = max(self._max.get(source, event_time), event_time)

    def touch(self, source: str, offset: int, wall: float) -> None:
        """A message was taken in (valid or not): the partition is alive up to ``offset``."""
        self._last_wall[source] = wall
        self._next_offset[source] = offset + 1

    def tick(self, ends: dict[str, int | None], wall: float, started: float,
             committed: dict[str, int | None] | None = None) -> bytes:
        """``ends``: the high-water mark of each assigned source partition; ``None`` until
        the consumer has fetched it, and an unknown end is never caught up. ``committed``:
        the offset this worker resumed each partition from. After a restart a partition
        with nothing new since then is caught up although no message was taken in;
        without it, event time stalled until every partition received a new message. (Not
        the consumer's position: that counts prefetched messages not yet processed.)"""
        report = {}
        for source, end in ends.items():
            quiet = wall - self._last_wall.get(source, started) > self.idle_after
            at = max(self._next_offset.get(source, 0), (committed or {}).get(source) or 0)
            caught_up = end is not None and at >= end
            report[source] = [self._max.get(source), quiet and caught_up]
        return orjson.dumps(report)
