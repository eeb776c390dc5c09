"""Event-to-alert latency seen from outside the worker: from the moment the event that
let event time pass an alert's trigger was sent to a source topic to the moment a
subscriber of the recall topic received the alert.

The worker releases an alert triggered at event time T once its watermark passes T:
every source partition has shown an event later than T + allowed lateness, or has been
quiet for ``idle_after`` seconds, counted again from the moment the input woke up after
every partition had gone quiet (streams/clock.py). ``WatermarkOracle`` applies that rule
to the wall times at which each event was handed to the producer, so the figure covers
all the worker adds (consuming, the events-topic hop, waiting for a tick, detecting,
publishing) and the source producer's own batching (``linger_ms`` 20). (The worker's
own histogram, ``since="received"``, starts at the tick that released the alert and so
leaves the tick wait out.)
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import orjson
from kafka import KafkaConsumer

from churnwatch.models.events import parse_rfc3339
from churnwatch.settings import Settings
from churnwatch.streams.admin import client_options


@dataclass
class SentEvents:
    """What ``produce(on_sent=...)`` reports: (wall time sent, topic/partition, event time)."""

    rows: list[tuple[float, str, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, line: bytes, wall: float, metadata: Any) -> None:
        when = parse_rfc3339(orjson.loads(line)["occurred_at"]).timestamp()
        with self._lock:
            self.rows.append((wall, f"{metadata.topic}/{metadata.partition}", when))


class WatermarkOracle:
    """The watermark a worker with no delays would have had, over wall time."""

    def __init__(self, sent: list[tuple[float, str, float]], sources: Collection[str],
                 lateness: float, idle_after: float, started: float) -> None:
        """``started``: wall time the worker was launched; a partition it has heard nothing
        from counts as quiet from then on (a worker waiting for its first events has
        already marked them all quiet)."""
        rows = sorted(sent)
        # the watermark changes when an event is sent or a partition falls quiet
        last: dict[str, float] = dict.fromkeys(sources, started)
        seen: set[str] = set()
        quiet_at = [started + idle_after]
        for wall, source, _ in rows:
            if all(wall - at > idle_after for at in last.values()):  # woke from a pause
                quiet_at.append(wall + idle_after)
            if source not in seen or wall - last[source] > idle_after:
                quiet_at.append(last[source] + idle_after)
            seen.add(source)
            last[source] = wall
        quiet_at += [wall + idle_after for wall in last.values()]
        moments = sorted([(wall, False, source, ts) for wall, source, ts in rows]
                         + [(wall + 1e-6, True, "", 0.0) for wall in quiet_at])
        newest: dict[str, float] = {}
        last = dict.fromkeys(sources, started)
        resumed = -math.inf
        self.walls: list[float] = []
        self.marks: list[float] = []  # non-decreasing: processed stays processed
        mark = -math.inf
        for wall, is_quiet, source, ts in moments:
            if not is_quiet:
                if all(wall - at > idle_after for at in last.values()):
                    resumed = wall  # the input woke up from a pause
                newest[source] = max(newest.get(source, ts), ts)
                last[source] = wall
            woke = wall - resumed <= idle_after  # the quiet ones hold time back again
            active = [s for s in sources if woke or wall - last[s] <= idle_after]
            if any(s not in newest for s in active):
                continue  # a partition not heard from yet may hold old events
            if active:
                now = min(newest[s] for s in active) - lateness
            elif newest:
                now = max(newest.values()) - lateness
            else:
                continue
            if now > mark:
                mark = now
                self.walls.append(wall)
                self.marks.append(mark)

    def released(self, trigger: float) -> float | None:
        """Wall time at which event time passed ``trigger``; None if it never did."""
        i = bisect.bisect_right(self.marks, trigger)
        return self.walls[i] if i < len(self.walls) else None


class Subscriber:
    """Reads the recall topic on a thread, noting when each alert id first arrived."""

    def __init__(self, settings: Settings) -> None:
        # a short fetch wait: the broker may hold an empty fetch that long
        self._consumer = KafkaConsumer(
            settings.topics.recall, **client_options(settings), group_id=None,
            auto_offset_reset="earliest", enable_auto_commit=False, fetch_max_wait_ms=10)
        self.arrived: dict[str, tuple[float, float]] = {}  # id -> (wall, trigger time)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Subscriber:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for records in self._consumer.poll(timeout_ms=100).values():
                now = time.time()
                for record in records:
                    alert = orjson.loads(record.value)
                    trigger = parse_rfc3339(alert["time"]).timestamp()
                    self.arrived.setdefault(alert["id"], (now, trigger))
