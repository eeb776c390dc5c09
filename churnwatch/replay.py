"""``churnwatch replay``: the streaming detection logic over an event log, with no broker."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from tqdm import tqdm

from churnwatch.config import Settings
from churnwatch.deadletter import dead_letter_record
from churnwatch.detector import Detector, Outcome, Stats
from churnwatch.models.events import AnyEvent, InvalidEvent, parse_event
from churnwatch.models.rfm import snapshot
from churnwatch.models.summary import CustomerSummary

LATE_REASON = "late: its customer was already evaluated past this event time"


@dataclass
class ReplayResult:
    """What a replay read and wrote; the detector's own counters are in ``stats``."""

    stats: Stats
    lines: int = 0
    invalid: int = 0
    customers: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


def _lines(log: BinaryIO, progress: bool, total: int) -> Iterator[bytes]:
    if not progress:
        yield from log
        return
    with tqdm(total=total, unit="B", unit_scale=True, desc="replay", file=sys.stderr) as bar:
        for raw in log:
            bar.update(len(raw))
            yield raw


def read_log(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes, AnyEvent | InvalidEvent]]:
    """(line number, bytes without the line end, the event or why it is invalid) for each
    non-blank line: the one way every command reads a log."""
    for lineno, line in enumerate(lines, 1):
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            continue
        try:
            yield lineno, raw, parse_event(raw)
        except InvalidEvent as exc:
            yield lineno, raw, exc


def valid_events(log: Path) -> Iterator[AnyEvent]:
    """The valid events of a log; ``replay --dead-letter`` lists the others."""
    with log.open("rb") as src:
        for _, _, event in read_log(src):
            if not isinstance(event, InvalidEvent):
                yield event


def replay(log: Path, alerts_path: Path, customers_path: Path, *, settings: Settings,
           as_of: float | None = None, dead_letter: Path | None = None,
           progress: bool | None = None) -> ReplayResult:
    began = time.perf_counter()
    detector = Detector(settings)
    result = ReplayResult(detector.stats)
    show = sys.stderr.isatty() if progress is None else progress
    dl: IO[bytes] | None = dead_letter.open("wb") if dead_letter else None
    try:
        with log.open("rb") as src, alerts_path.open("wb") as out:
            for lineno, raw, event in read_log(_lines(src, show, log.stat().st_size)):
                result.lines += 1
                if isinstance(event, InvalidEvent):
                    result.invalid += 1
                    if dl:
                        dl.write(dead_letter_record(str(event), raw, line=lineno) + b"\n")
                    continue
                outcome = detector.ingest(event)
                if outcome is Outcome.LATE and dl:
                    dl.write(dead_letter_record(LATE_REASON, raw, line=lineno) + b"\n")
                for alert in detector.advance():
                    out.write(alert.model_dump_json().encode() + b"\n")
            for alert in detector.finish(as_of):
                out.write(alert.model_dump_json().encode() + b"\n")
    finally:
        if dl:
            dl.close()
    result.customers = write_customers(detector, customers_path, as_of)
    result.seconds = time.perf_counter() - began
    return result


def write_customers(detector: Detector, path: Path, as_of: float | None) -> int:
    now = max(detector.max_seen, as_of or detector.max_seen)
    detector.refresh_view()
    count = 0
    with path.open("wb") as out:
        for cid in sorted(detector.states):
            st = detector.states[cid]
            if not st.first_seen:
                continue
            rfm = snapshot(st, now, detector.view, st.window(now, detector.bucket_seconds))
            score = detector.scorer.assess(st, now)
            line = CustomerSummary(
                customer_id=cid, recency_days=rfm.recency_days, frequency=rfm.frequency,
                monetary=rfm.monetary, segment=rfm.segment, tier=rfm.tier,
                p_alive=score.p_alive, risk=score.risk, value_at_risk=score.value_at_risk)
            out.write(line.model_dump_json().encode() + b"\n")
            count += 1
    return count
