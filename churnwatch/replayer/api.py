"""The replayer's face: :func:`replay` keeps everything in memory and returns typed
objects, for code and test suites; :func:`replay_files` streams the same outputs to files,
for ``churnwatch replay`` and logs larger than memory. For the same input and settings
both produce the same bytes."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, BinaryIO

from churnwatch.engine import AlertOut, Detector
from churnwatch.models.alert import Alert
from churnwatch.replayer.driver import detector_for, run, summaries, tally
from churnwatch.replayer.inputs import AsOf, Events, as_of_seconds, open_items
from churnwatch.replayer.results import (
    DeadLetter,
    FileReport,
    ReplayResult,
    alert_line,
    summary_line,
)
from churnwatch.settings import Settings
from churnwatch.settings.environment import from_mapping


def replay(events: Events, *, settings: Settings | Mapping[str, Any] | None = None,
           as_of: AsOf = None, strict: bool = False) -> ReplayResult:
    """Run the detector over ``events`` in memory and return what it found.

    ``settings``: a :class:`~churnwatch.settings.Settings`, a mapping of overrides
    (``{"detection": {"basket_drop": {"ratio": 0.5}}}``), or None for the defaults. The
    environment is never read here; pass ``Settings.from_env()`` to use it.
    ``as_of``: let event time run on to this moment after the last event, so silence
    (``gone_quiet``, ``engagement_drop``, expiring promotions) is detected.
    ``strict``: raise :class:`InvalidInput` at the first input the contract refuses
    (the pytest fixtures do), instead of returning it among ``dead_letters``.
    """
    began = time.perf_counter()
    alerts: list[Alert] = []
    held_out: list[Alert] = []
    dead: list[DeadLetter] = []
    detector = detector_for(_settings(settings))
    end = as_of_seconds(as_of)
    with open_items(events, strict=strict) as items:
        for out in run(detector, items, end):
            if not isinstance(out, AlertOut):
                dead.append(out)
            else:
                (held_out if detector.held_out(out) else alerts).append(out.model())
    lines = list(summaries(detector))
    counts = tally(detector.stats, items.lines, items.invalid, len(lines))
    return ReplayResult(alerts, lines, dead, counts, time.perf_counter() - began, held_out,
                        detector.outcomes, detector.responses, detector.settled)


PROGRESS_EVERY = 10.0
"""Seconds between progress lines when standard error is not a terminal."""


def replay_files(log: Path | BinaryIO, alerts_path: Path, customers_path: Path, *,
                 settings: Settings, as_of: AsOf = None, dead_letter: Path | None = None,
                 holdout: Path | None = None, progress: bool | None = None,
                 progress_every: float = PROGRESS_EVERY) -> FileReport:
    """:func:`replay` for logs of any size: outputs stream to files as they are found.
    ``log`` is a path or an open binary stream (standard input). ``holdout``: where the
    held-out alerts go (never into ``alerts_path``; without it they are only counted).
    ``progress``: a bar on a terminal; by default a bar when standard error is one, else
    a line every ``progress_every`` seconds (a long run in a pipeline or CI says how far
    it is)."""
    began = time.perf_counter()
    detector = detector_for(settings)
    end = as_of_seconds(as_of)
    tty = sys.stderr.isatty()
    show = isinstance(log, Path) and (tty if progress is None else progress)
    dl: IO[bytes] | None = dead_letter.open("wb") if dead_letter else None
    shadow: IO[bytes] | None = holdout.open("wb") if holdout else None
    first: DeadLetter | None = None
    try:
        with open_items(log, progress=show) as items, alerts_path.open("wb") as out:
            if progress is None and not tty:
                items.on_lines = _progress_lines(detector, began, progress_every)
            for found in run(detector, items, end):
                if not isinstance(found, AlertOut):
                    first = first or found
                    if dl:
                        dl.write(found.to_json() + b"\n")
                elif not detector.held_out(found):
                    out.write(alert_line(found))
                elif shadow:
                    shadow.write(alert_line(found))
                detector.outcomes.clear()  # a file replay does not report them
                detector.responses.clear()
                detector.settled.clear()
    finally:
        for f in (dl, shadow):
            if f:
                f.close()
    written = 0
    with customers_path.open("wb") as cust:
        for line in summaries(detector):
            cust.write(summary_line(line))
            written += 1
    counts = tally(detector.stats, items.lines, items.invalid, written)
    problem = f"line {first.line}: {first.reason}" if first else None
    return FileReport(counts, time.perf_counter() - began, problem)

def _progress_lines(detector: Detector, began: float, every: float
                    ) -> Callable[[int], None]:
    """A progress line on standard error at most every ``every`` seconds."""
    last = began

    def report(lines: int) -> None:
        nonlocal last
        now = time.perf_counter()
        if now - last < every:
            return
        last = now
        print(f"replay: {lines:,} lines in {now - began:,.0f} s "
              f"({lines / max(now - began, 1e-9):,.0f}/s), {len(detector.states):,} "
              f"customers, {sum(detector.stats.alerts.values()):,} alerts",
              file=sys.stderr, flush=True)
    return report

def _settings(settings: Settings | Mapping[str, Any] | None) -> Settings:
    if isinstance(settings, Settings):
        return settings
    return from_mapping(settings or {})
