"""Event time across partitions: the watermark the streaming detector advances to.

Ingest workers tell, in ticks, how far event time has got on each source partition they
read. The watermark is the *slowest* active source partition minus the allowed lateness,
so a lagging partition holds time back instead of having its events arrive late. A source
partition that has sent nothing for ``idle_after`` wall-clock seconds stops holding time
back (live mode only; replay needs no ticks) - but only once it is caught up: a partition
waiting its turn in the consumer's fetch loop is behind, not idle. One nobody reports on
for a while is forgotten (its worker left the group).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import orjson


@dataclass
class _Progress:
    max_time: float | None  # newest event time seen on the source partition
    idle: bool
    heard_at: float  # wall clock of the last report


class SourceClock:
    """Collects tick reports; answers with the watermark. Wall time is passed in."""

    def __init__(self, lateness: float, forget_after: float) -> None:
        self.lateness = lateness
        self.forget_after = forget_after
        self._sources: dict[str, _Progress] = {}

    def report(self, tick: bytes, wall: float) -> None:
        for source, (max_time, idle) in orjson.loads(tick).items():
            self._sources[source] = _Progress(max_time, bool(idle), wall)

    def watermark(self, wall: float) -> float:
        for source in [s for s, p in self._sources.items()
                       if wall - p.heard_at > self.forget_after]:
            del self._sources[source]
        active = [p.max_time for p in self._sources.values() if not p.idle]
        if any(t is None for t in active):
            return -math.inf  # a partition that has said nothing yet may hold old events
        if active:
            return min(t for t in active if t is not None) - self.lateness
        # every source is idle and caught up: all there is has been seen
        seen = [p.max_time for p in self._sources.values() if p.max_time is not None]
        return max(seen) - self.lateness if seen else -math.inf


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

    def tick(self, ends: dict[str, int | None], wall: float, started: float) -> bytes:
        """``ends``: the high-water mark of each assigned source partition; ``None`` until
        the consumer has fetched it, and an unknown end is never caught up."""
        report = {}
        for source, end in ends.items():
            quiet = wall - self._last_wall.get(source, started) > self.idle_after
            caught_up = end is not None and self._next_offset.get(source, 0) >= end
            report[source] = [self._max.get(source), quiet and caught_up]
        return orjson.dumps(report)
