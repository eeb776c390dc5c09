"""Event time across partitions: the watermark the streaming detector advances to.

Workers tell, in ticks, how far event time has got on each source partition they read
(replay's rule over the customers seen there), and what each detect partition's census
holds (the customers' newest times: replay's rule, merged across partitions). The
watermark is the slowest source partition minus the allowed lateness, never past what the
merged census allows. How idle
partitions, owner changes and restored customers are handled, and why: RELIABILITY.md,
"Event time across partitions".
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import orjson

from churnwatch.engine.eventtime import Census as CustomerTimes
from churnwatch.engine.eventtime import Merged, Summary, merged
from churnwatch.settings import EventTimeSettings


@dataclass(frozen=True)
class Census:
    """A detect partition's census as reported. ``settled``: taken when its worker's
    clock had every source idle and caught up (:meth:`SourceClock.settled`), so nothing
    more was on its way to it; the mark of where the sources then stood, so that a clock
    trusts it only while they still stand there."""

    settled: int | None
    summary: Summary


def tick_body(sources: dict[str, list[Any]], censuses: dict[int, Census]) -> bytes:
    """A tick: each source partition's ``[event time reached, idle, next offset, fetched,
    resumed]`` (:meth:`SourceProgress.tick`) and the censuses of the detect partitions it
    owns."""
    return orjson.dumps({"sources": sources, "censuses": {
        str(p): [c.settled, c.summary.to_json()] for p, c in censuses.items()}})


class SourceClock:
    """Collects tick reports; answers with the watermark."""

    def __init__(self, lateness: float, expected: Collection[str], partitions: int,
                 rule: EventTimeSettings, own: Collection[str] = (), idle_after: float = 0.0,
                 wall: Callable[[], float] = time.time) -> None:
        """``expected``: the source partitions (``topic/partition``) known at start. Any
        partition a tick mentions later (one added to a topic) is waited for too.
        ``partitions``: the detect partitions, whose censuses are all waited for.
        ``own``: sources this clock hears of only from :meth:`report` with ``local`` (one
        hop: the source partitions its own detector reads). A tick on the topic may come
        from their previous owner and vouch for records beyond the committed offset,
        which this owner has not read again yet: trusted, it made them late.
        ``idle_after``: the workers' setting; when the input wakes up from a pause, the
        quiet partitions hold event time back for that long again (:meth:`_quiet`).
        ``wall``: the clock."""
        self.lateness = lateness
        self.idle_after = idle_after
        self._wall = wall
        self._own = frozenset(own)
        self._partitions = partitions
        self._rule = rule
        self._expected = set(expected)
        self._max: dict[str, float | None] = {}  # event time reached per source
        self._idle: dict[str, bool] = {}
        self._at: dict[str, int] = {}  # where each source's reader stood
        self._fetched: dict[str, float | None] = {}  # when its end was last fetched
        self._resumed: float | None = None  # when a partition last resumed after a pause
        self._woke: float | None = None  # when one resumed while every source was quiet
        self._arrived: dict[str, int] = {}  # a record read beyond its source's last report
        self._censuses: dict[int, Census] = {}
        self._local: set[int] = set()  # detect partitions whose census comes from here
        self._merged: Merged | None = None
        self._watermark: float | None = None  # asked for after every message: cached
        self._expires = math.inf  # when the cached watermark's grace after a resume ends

    def report(self, tick: bytes) -> None:
        """A tick read from the topic."""
        body = orjson.loads(tick)
        self.sources(body.get("sources", {}))
        for key, (settled, summary) in body.get("censuses", {}).items():
            partition = int(key)
            if partition not in self._local:  # ours: fresher straight from the detector
                self._censuses[partition] = Census(settled, Summary.from_json(summary))
        self._changed()

    def sources(self, report: dict[str, list[Any]], local: bool = False) -> None:
        """Source partitions' progress; ``local``: of the detector's own sources, made
        where it reads them."""
        paused = self._paused()
        for source, (max_time, idle, at, fetched, resumed) in report.items():
            if (source in self._own) != local:
                continue
            self._expected.add(source)
            if self._arrived.get(source, math.inf) < at:
                del self._arrived[source]  # a report made after that record was taken in
            if max_time is not None or source not in self._max:
                self._max[source] = max_time
            self._idle[source] = bool(idle)
            self._at[source] = at
            self._fetched[source] = fetched
            if resumed is not None and (self._resumed is None or resumed > self._resumed):
                self._resumed = resumed
                if paused:
                    self._woke = resumed
        self._changed()

    def arrived(self, source: str, offset: int) -> None:
        """A forwarded record from ``source`` (``topic/partition``) at ``offset`` reached
        the detector. If the last report said the source's reader stood at or before it,
        that report is stale: the source has resumed, and counts as read out only once a
        report made after this record says so. A worker's own detect partitions give
        their census to its clock at once, while the sources' reports come through the
        topic behind the records: with every source reported idle, the census taken in
        from the first records of a burst moved event time past records the ingest stage
        had not forwarded yet (one order refused as late, the two-halves backfill test,
        run 9 of 11 of a loop, 2026-12-07)."""
        if offset < self._at.get(source, 0) or not self._idle.get(source, False) or (
                source in self._arrived):
            return
        if self._paused():
            self._woke = self._wall()  # the input woke up: see :meth:`_quiet`
        self._arrived[source] = offset
        self._changed()

    def _read_out(self, source: str) -> bool:
        """Idle and read to its end by a fetch made after the last time any partition
        resumed. After a pause, a burst of history reaches every partition at about the
        same moment; one whose fetch predates the burst only seems idle, and letting the
        others move event time past it made its events late."""
        fetched = self._fetched.get(source)
        return self._idle.get(source, False) and source not in self._arrived and (
            self._resumed is None or (fetched is not None and fetched > self._resumed))

    def _paused(self) -> bool:
        """Every source read out: the input has stopped, for now or for good."""
        return bool(self._expected) and all(self._read_out(s) for s in self._expected)

    def _quiet(self, source: str) -> bool:
        """Read out, and, if the input woke up from a pause, quiet for ``idle_after``
        since. A fetch after the first partition resumed is not enough: a producer
        resuming after a stall reaches its partitions over more than a fetch's time (with
        a producer stopped for 4 s mid-log, 3 of 8 runs refused 113 to 1,551 events as
        late, 2026-12-07). Only after a pause of everything: in steady traffic, with
        partitions quiet for a while as a matter of course and topics that stay empty,
        holding time back at every partition's resume would hold it for good."""
        woke = self._woke
        return self._read_out(source) and (
            woke is None or self._wall() - woke > self.idle_after)

    def census(self, partition: int, census: Census) -> None:
        """The census of a detect partition this worker owns, straight from its detector."""
        self._local.add(partition)
        self._censuses[partition] = census
        self._changed()

    def _changed(self) -> None:
        self._watermark = None
        self._merged = None

    def watermark(self) -> float:
        if self._watermark is None or self._wall() > self._expires:
            self._expires = math.inf if self._woke is None else self._woke + self.idle_after
            if self._expires < self._wall():
                self._expires = math.inf  # the grace after the last resume is over
            self._watermark = self._compute() - self.lateness
        return self._watermark

    def event_time(self) -> float:
        """Where event time stands: the watermark plus the allowed lateness."""
        return self.watermark() + self.lateness

    def settled(self) -> int | None:
        """If every source partition is idle and caught up (all of it has been read), a
        mark of where each stood; else None."""
        if not self._expected or not all(self._quiet(s) for s in self._expected):
            return None
        return zlib.crc32(orjson.dumps(sorted((s, self._at.get(s)) for s in self._expected)))

    def wanted_since(self) -> float:
        """From which time the censuses must list customers exactly for an exact answer
        (+inf while the answer is exact, or unknown)."""
        m = self._census()
        return math.inf if m is None or m.certain else m.since

    def _census(self) -> Merged | None:
        if self._merged is None and len(self._censuses) == self._partitions:
            self._merged = merged((c.summary for c in self._censuses.values()), self._rule)
        return self._merged

    def _compute(self) -> float:
        if not self._expected or any(s not in self._max for s in self._expected):
            return -math.inf
        active = [self._max[s] for s in self._expected if not self._quiet(s)]
        if any(t is None for t in active):
            return -math.inf  # a partition that has said nothing yet may hold old events
        census = self._census()
        if census is None:
            return -math.inf  # a detect partition not heard from may hold old customers
        if active:
            return min(*(t for t in active if t is not None), census.time)
        mark = self.settled()
        agreed = census.certain and all(c.settled == mark for c in self._censuses.values())
        return census.end if agreed else census.time  # all read: the end, once all agree


class SourceProgress:
    """Ingest side: how far each source partition has got, in event and wall time (epoch
    seconds: clocks compare them across workers)."""

    def __init__(self, idle_after: float, started: float, rule: EventTimeSettings) -> None:
        """``started``: when the partitions began to be read: a partition that never
        delivered a message counts as quiet from then."""
        self.idle_after = idle_after
        self.started = started
        self._rule = rule
        self._customers: dict[str, CustomerTimes] = {}
        self._last_wall: dict[str, float] = {}
        self._next_offset: dict[str, int] = {}
        self._resumed: dict[str, float] = {}

    def observe(self, source: str, event_time: float, customer: str) -> None:
        times = self._customers.get(source)
        if times is None:
            times = self._customers[source] = CustomerTimes.of(self._rule)
        times.observe(customer, event_time)

    def touch(self, source: str, offset: int, wall: float) -> None:
        """A message was taken in (valid or not): the partition is alive up to ``offset``.
        The first here, or the first after a quiet spell: it *resumed*, and the others
        may have new messages too (a report that one is idle, made before, is stale: seen
        when a partition changed owner as the input began, its first records came late)."""
        last = self._last_wall.get(source)
        if last is None or wall - last > self.idle_after:
            self._resumed[source] = wall
        self._last_wall[source] = wall
        self._next_offset[source] = offset + 1

    def tick(self, ends: dict[str, int | None], wall: float,
             committed: dict[str, int | None] | None = None,
             fetched: dict[str, float | None] | None = None) -> dict[str, list[Any]]:
        """``ends``: the high-water mark of each assigned source partition, as of a fetch
        response received moments ago; ``None`` when unknown or stale, and such a partition
        is never caught up (a consumer thread starved on a busy machine keeps reporting the
        end it saw before new messages arrived: called idle, its partition let event time
        run past those messages). ``committed``:
        the offset this worker resumed each partition from. After a restart a partition
        with nothing new since then is caught up although no message was taken in;
        without it, event time stalled until every partition received a new message. (Not
        the consumer's position: that counts prefetched messages not yet processed.)
        ``fetched``: when the fetch response behind each end came: a clock trusts an idle
        partition only if that was after the last time any partition resumed
        (:meth:`SourceClock.sources`)."""
        report: dict[str, list[Any]] = {}
        for source, end in ends.items():
            quiet = wall - self._last_wall.get(source, self.started) > self.idle_after
            at = max(self._next_offset.get(source, 0), (committed or {}).get(source) or 0)
            caught_up = end is not None and at >= end
            times = self._customers.get(source)
            reached = None if times is None else times.end()
            report[source] = [None if reached == -math.inf else reached, quiet and caught_up,
                              at, (fetched or {}).get(source), self._resumed.get(source)]
        return report
