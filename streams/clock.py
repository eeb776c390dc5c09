"""Event time across partitions: the watermark the streaming detector advances to.

Ingest workers tell, in ticks, how far event time has got on each source partition they
read; the watermark is the slowest partition minus the allowed lateness, never past what a
quorum of customers reached. How idle partitions, owner changes and restored customers are
handled, and why: RELIABILITY.md, "Event time across partitions".
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from itertools import chain

import orjson

from churnwatch.engine import Quorum


class SourceClock:
    """Collects tick reports; answers with the watermark."""

    def __init__(self, lateness: float, expected: Collection[str], quorum: int,
                 restored: Iterable[tuple[str, float]] = (), own: Collection[str] = ()) -> None:
        """``expected``: the source partitions (``topic/partition``) known at start. Any
        partition a tick mentions later (one added to a topic) is waited for too.
        ``quorum``: distinct customers that must reach a time before it is event time.
        ``restored``: customers' newest event times known when the partition was adopted: those
        of the customers its detector restored, and those the previous owner's clock had
        heard of (:meth:`heard`), all restored from changelogs. When every source is idle
        and caught up, all there is has been seen, that included: a restarted worker with
        nothing new to read, whose ticks all say "nothing seen", must still release what
        the previous owner left pending, and reach the time every customer of the log had
        reached, not only the partition's own (the reports of the old events may be
        behind the committed offset, never to be read again).
        ``own``: sources this clock hears of only from :meth:`report` with ``local`` (one
        hop: the source partitions its own detector reads). A tick on the topic may come
        from their previous owner and vouch for records beyond the committed offset,
        which this owner has not read again yet: trusted, it made them late."""
        self.lateness = lateness
        self._own = frozenset(own)
        self.quorum = quorum
        self._restored = list(restored)
        self._expected = set(expected)
        self._max: dict[str, float | None] = {}  # newest event time seen per source
        self._top: dict[str, list[tuple[str, float]]] = {}  # per source: Quorum.pairs
        self._idle: dict[str, bool] = {}
        self._watermark: float | None = None  # asked for after every message: cached

    def report(self, tick: bytes, local: bool = False) -> None:
        """``local``: the report of the detector's own sources, made where it reads them."""
        for source, (max_time, idle, *top) in orjson.loads(tick).items():
            if (source in self._own) != local:
                continue
            self._expected.add(source)
            if max_time is not None or source not in self._max:
                self._max[source] = max_time
                self._top[source] = [(c, t) for c, t in top[0]] if top else []
            self._idle[source] = bool(idle)
        self._watermark = None

    def watermark(self) -> float:
        if self._watermark is None:
            self._watermark = self._compute() - self.lateness
        return self._watermark

    def event_time(self) -> float:
        """Where event time stands: the watermark plus the allowed lateness."""
        return self.watermark() + self.lateness

    def _compute(self) -> float:
        if not self._expected or any(s not in self._max for s in self._expected):
            return -math.inf
        active = [self._max[s] for s in self._expected if not self._idle[s]]
        if any(t is None for t in active):
            return -math.inf  # a partition that has said nothing yet may hold old events
        customers = self._customers()
        if active:
            return min(*(t for t in active if t is not None), customers.time)
        return customers.end()  # every source is idle and caught up: all has been seen

    def _customers(self) -> Quorum:
        return Quorum(self.quorum, chain(self._restored, *self._top.values()))

    def heard(self) -> bytes:
        """The customers with the newest times this clock knows of (``restored`` and every
        report), to store with the partition's states for its next owner
        (:func:`heard_pairs`).
        Stored in the same flush as the states, it vouches for nothing they lack: each
        tick follows, on its partition, every event it names."""
        return orjson.dumps(self._customers().pairs())


def heard_pairs(heard: bytes | None) -> list[tuple[str, float]]:
    """What :meth:`SourceClock.heard` stored, as ``restored`` pairs; none if nothing was."""
    return [(c, t) for c, t in orjson.loads(heard)] if heard else []


class SourceProgress:
    """Ingest side: how far each source partition has got, in event and wall time."""

    def __init__(self, idle_after: float, quorum: int, started: float) -> None:
        """``started``: when the partitions began to be read (monotonic): a partition
        that never delivered a message counts as quiet from then."""
        self.idle_after = idle_after
        self.quorum = quorum
        self.started = started
        self._max: dict[str, float] = {}
        self._top: dict[str, Quorum] = {}
        self._last_wall: dict[str, float] = {}
        self._next_offset: dict[str, int] = {}

    def observe(self, source: str, event_time: float, customer: str) -> None:
        self._max[source] = max(self._max.get(source, event_time), event_time)
        top = self._top.get(source)
        if top is None:
            top = self._top[source] = Quorum(self.quorum)
        top.observe(customer, event_time)

    def touch(self, source: str, offset: int, wall: float) -> None:
        """A message was taken in (valid or not): the partition is alive up to ``offset``."""
        self._last_wall[source] = wall
        self._next_offset[source] = offset + 1

    def tick(self, ends: dict[str, int | None], wall: float,
             committed: dict[str, int | None] | None = None) -> bytes:
        """``ends``: the high-water mark of each assigned source partition, as of a fetch
        response received moments ago; ``None`` when unknown or stale, and such a partition
        is never caught up (a consumer thread starved on a busy machine keeps reporting the
        end it saw before new messages arrived: called idle, its partition let event time
        run past those messages). ``committed``:
        the offset this worker resumed each partition from. After a restart a partition
        with nothing new since then is caught up although no message was taken in;
        without it, event time stalled until every partition received a new message. (Not
        the consumer's position: that counts prefetched messages not yet processed.)"""
        report = {}
        for source, end in ends.items():
            quiet = wall - self._last_wall.get(source, self.started) > self.idle_after
            at = max(self._next_offset.get(source, 0), (committed or {}).get(source) or 0)
            caught_up = end is not None and at >= end
            top = self._top.get(source)
            report[source] = [self._max.get(source), quiet and caught_up,
                              top.pairs() if top else []]
        return orjson.dumps(report)
