"""The replayer: the streaming detection logic over a log of events, with no broker.

One engine, two ways out. :func:`replay` keeps everything in memory and returns typed
objects, for code and test suites; :func:`replay_files` streams the same outputs to
files, for ``churnwatch replay`` and logs larger than memory. For the same input and
settings both produce the same bytes.
"""

from __future__ import annotations

import gc
import io
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, get_args

import orjson
from tqdm import tqdm

from churnwatch.config import EventTimeSettings, Settings
from churnwatch.engine.deadletter import dead_letter_record
from churnwatch.engine.detector import Detector, Outcome, Stats
from churnwatch.engine.eventtime import EventTimeGuard, ahead_reason
from churnwatch.environment import from_mapping
from churnwatch.models.alert import Alert
from churnwatch.models.events import AnyEvent, InvalidEvent, parse_event, parse_rfc3339
from churnwatch.models.outcome import AlertOutcome, Response
from churnwatch.models.rfm import snapshot
from churnwatch.models.summary import CustomerSummary
from churnwatch.signals.base import known_signal

LATE_REASON = "late: its customer was already evaluated past this event time"

EventLike = AnyEvent | Mapping[str, Any] | bytes | str
"""One event: a parsed event model, a dict, or one JSON line (bytes or str)."""
Events = str | os.PathLike[str] | Iterable[EventLike]
"""A path to a JSON Lines log, or any iterable of events."""
AsOf = datetime | date | str | float | None
"""An aware datetime, a date (its midnight UTC), an RFC 3339 string, or POSIX seconds."""

Parsed = tuple[int, bytes, AnyEvent | InvalidEvent]


class InvalidInput(ValueError):
    """``replay(strict=True)`` met an input the contract refuses: where, and why."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input that was not applied: where it was (1-based), why, and its original bytes."""

    line: int
    reason: str
    raw: bytes

    def to_json(self) -> bytes:
        """The line ``churnwatch replay --dead-letter`` writes for it."""
        return dead_letter_record(self.reason, self.raw, line=self.line)


@dataclass(frozen=True, slots=True)
class Counts:
    """What a replay read and did."""

    lines: int
    """non-blank input lines (or items)"""
    invalid: int
    """refused as invalid (each is a dead letter)"""
    accepted: int
    duplicates: int
    """repeated event ids, ignored"""
    late: int
    """behind their customer's evaluated time (each is a dead letter)"""
    out_of_time: int
    """event times refused as unbelievable (a dead letter each; engine/eventtime.py)"""
    customers: int
    alerts: Mapping[str, int]
    """alerts published, by signal"""
    suppressed: Mapping[str, int]
    """findings held back by governance, by reason"""
    held_out: Mapping[str, int] = field(default_factory=dict)
    """alerts (among ``alerts``) for the holdout group, by signal"""
    actions: Mapping[str, int] = field(default_factory=dict)
    """action reports: answered, repeat, unknown_alert"""

    @property
    def total_alerts(self) -> int:
        return sum(self.alerts.values())


@dataclass(frozen=True)
class ReplayResult:
    """Everything one in-memory replay produced, in the CLI's deterministic order."""

    alerts: list[Alert]
    """what marketing acts on (the recall topic)"""
    customers: list[CustomerSummary]
    dead_letters: list[DeadLetter]
    counts: Counts
    seconds: float = field(compare=False)
    held_out: list[Alert] = field(default_factory=list)
    """alerts for the holdout group (the shadow topic): measured, never acted on"""
    outcomes: list[AlertOutcome] = field(default_factory=list)
    """attribution windows that closed, in the order they closed"""
    responses: list[Response] = field(default_factory=list)
    """actions that answered an alert, in order"""

    def alerts_for(self, customer_id: str, signal: str | None = None) -> list[Alert]:
        """The customer's alerts (of one signal: a name not in ``SIGNAL_NAMES`` raises)."""
        if signal is not None:
            known_signal(signal)
        return [a for a in self.alerts if a.subject == customer_id
                and (signal is None or a.data.signal == signal)]

    def signals_for(self, customer_id: str) -> list[str]:
        """The signals alerted for a customer, in order."""
        return [a.data.signal for a in self.alerts_for(customer_id)]

    def customer(self, customer_id: str) -> CustomerSummary:
        for line in self.customers:
            if line.customer_id == customer_id:
                return line
        raise KeyError(f"no customer {customer_id!r} in this replay")

    def outputs(self) -> dict[str, bytes]:
        """The bytes of the CLI's files, by kind: alerts, customers, dead-letter."""
        return {"alerts": b"".join(map(_alert_line, self.alerts)),
                "customers": b"".join(map(_summary_line, self.customers)),
                "dead-letter": b"".join(d.to_json() + b"\n" for d in self.dead_letters),
                "holdout": b"".join(map(_alert_line, self.held_out))}

    def write(self, *, alerts: str | os.PathLike[str] | None = None,
              customers: str | os.PathLike[str] | None = None,
              dead_letter: str | os.PathLike[str] | None = None,
              holdout: str | os.PathLike[str] | None = None) -> None:
        """Write the files ``churnwatch replay`` writes, byte for byte."""
        outputs = self.outputs()
        for path, kind in ((alerts, "alerts"), (customers, "customers"),
                           (dead_letter, "dead-letter"), (holdout, "holdout")):
            if path is not None:
                Path(path).write_bytes(outputs[kind])


@dataclass(frozen=True)
class FileReport:
    """What :func:`replay_files` read and wrote."""

    counts: Counts
    seconds: float
    first_problem: str | None
    """the first dead letter, as ``line N: reason``"""

    @property
    def events_per_second(self) -> float:
        return self.counts.lines / self.seconds if self.seconds else 0.0


def replay(events: Events, *, settings: Settings | Mapping[str, Any] | None = None,
           as_of: AsOf = None, strict: bool = False) -> ReplayResult:
    """Run the detector over ``events`` in memory and return what it found.

    ``settings``: a :class:`~churnwatch.config.Settings`, a mapping of overrides
    (``{"detection": {"basket_drop": {"ratio": 0.5}}}``), or None for the defaults. The
    environment is never read here; pass ``Settings.from_env()`` to use it.
    ``as_of``: let event time run on to this moment after the last event, so silence
    (``gone_quiet``, ``engagement_drop``, expiring promotions) is detected.
    ``strict``: raise :class:`InvalidInput` at the first input the contract refuses
    (the pytest fixtures do), instead of returning it among ``dead_letters``.
    """
    began = time.perf_counter()
    alerts: list[Alert] = []
    held: list[Alert] = []
    dead: list[DeadLetter] = []
    detector = _detector(_settings(settings))
    end = as_of_seconds(as_of)
    with _items(events, strict=strict) as items:
        for out in _run(detector, items, end):
            if not isinstance(out, Alert):
                dead.append(out)
            else:
                (held if detector.held_out(out) else alerts).append(out)
    lines = list(summaries(detector))
    counts = _counts(detector.stats, items.lines, items.invalid, len(lines))
    return ReplayResult(alerts, lines, dead, counts, time.perf_counter() - began, held,
                        detector.outcomes, detector.responses)


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
    detector = _detector(settings)
    end = as_of_seconds(as_of)
    tty = sys.stderr.isatty()
    show = isinstance(log, Path) and (tty if progress is None else progress)
    dl: IO[bytes] | None = dead_letter.open("wb") if dead_letter else None
    shadow: IO[bytes] | None = holdout.open("wb") if holdout else None
    first: DeadLetter | None = None
    try:
        with _items(log, progress=show) as items, alerts_path.open("wb") as out:
            if progress is None and not tty:
                items.on_lines = _progress_lines(detector, began, progress_every)
            for found in _run(detector, items, end):
                if not isinstance(found, Alert):
                    first = first or found
                    if dl:
                        dl.write(found.to_json() + b"\n")
                elif not detector.held_out(found):
                    out.write(_alert_line(found))
                elif shadow:
                    shadow.write(_alert_line(found))
                detector.outcomes.clear()  # a file replay does not report them
                detector.responses.clear()
    finally:
        for f in (dl, shadow):
            if f:
                f.close()
    written = 0
    with customers_path.open("wb") as cust:
        for line in summaries(detector):
            cust.write(_summary_line(line))
            written += 1
    counts = _counts(detector.stats, items.lines, items.invalid, written)
    problem = f"line {first.line}: {first.reason}" if first else None
    return FileReport(counts, time.perf_counter() - began, problem)


def _detector(settings: Settings) -> Detector:
    """A detector for a whole log: beyond ``runtime.live_customers`` it keeps the states
    of the customers least recently seen encoded (~300 B instead of ~3 KB; lossless, so
    the outputs are the same), so a log of millions of customers fits in memory."""
    return Detector(settings, live_limit=settings.runtime.live_customers)


COMPACT_EVERY = 1024
"""Items between two ``Detector.compact`` calls in replay."""


@contextmanager
def _long_lived_spared() -> Iterator[Callable[[], None]]:
    """Python's cyclic collector rescans every object still alive at each full
    collection, and a replay holds millions that never form a cycle (states, events,
    queue entries) while it makes new ones all the time: a quarter of the time of a replay
    of 200,000 customers with most states encoded went to it. The function given moves
    everything alive so far out of the collector's sight (``gc.freeze``); at the end all of
    it is handed back (``gc.unfreeze``), so a cycle among it that became garbage meanwhile
    is still collected. Nothing is frozen if something else already froze objects: that
    was somebody else's decision, which unfreezing would undo."""
    if gc.get_freeze_count():
        yield lambda: None
        return
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def _run(detector: Detector, items: Iterable[Parsed], as_of: float | None
         ) -> Iterator[Alert | DeadLetter]:
    """The engine: ingest each item, release what the watermark passed, finish at ``as_of``."""
    guard = EventTimeGuard(detector.settings.event_time)
    with _long_lived_spared() as spare:
        for n, (lineno, raw, event) in enumerate(items, 1):
            if not n % COMPACT_EVERY:
                detector.compact()
                detector.touched.clear()  # for a worker's flushes; nobody reads it here
                spare()
            if isinstance(event, InvalidEvent):
                yield DeadLetter(lineno, str(event), raw)
                continue
            if (why := guard.refuse(event.ts)) is not None:
                detector.stats.out_of_time += 1
                yield DeadLetter(lineno, why, raw)
                continue
            outcome = detector.ingest(event)
            if outcome is Outcome.LATE:
                yield DeadLetter(lineno, LATE_REASON, raw)
            elif outcome is Outcome.AHEAD:
                yield DeadLetter(lineno, ahead_reason(
                    event.ts, detector.quorum.time, detector.max_held), raw)
            yield from detector.advance()
        yield from detector.finish(as_of)
        detector.compact()  # the customer lines then decode one state at a time


def summaries(detector: Detector) -> Iterator[CustomerSummary]:
    """One line per customer as of where ``finish`` left event time (a customer run on
    ahead of it: as of its own time), sorted by customer id."""
    if not detector.states:
        return
    detector.refresh_view()
    for cid in sorted(detector.states):
        st = detector.states.peek(cid)
        if not st.first_seen:
            continue
        now = max(detector.end, float(st.through))
        as_of_time = datetime.fromtimestamp(now, UTC)
        rfm = snapshot(st, now, detector.view, st.window(now, detector.bucket_seconds))
        score = detector.scorer.assess(st, now)
        yield CustomerSummary(
            customer_id=cid, recency_days=rfm.recency_days, frequency=rfm.frequency,
            monetary=rfm.monetary, segment=rfm.segment, tier=rfm.tier, as_of=as_of_time,
            risk_horizon_days=detector.scorer.horizon_days, p_alive=score.p_alive,
            risk=score.risk, value_at_risk=score.value_at_risk)


# --- reading input -------------------------------------------------------------------


def read_log(lines: Iterable[bytes]) -> Iterator[Parsed]:
    """(line number, bytes without the line end, the event or why it is invalid) for each
    non-blank line: the one way every command reads a log."""
    for lineno, line in enumerate(lines, 1):
        raw = line.rstrip(b"\r\n")
        if raw.strip():
            yield _parsed(lineno, raw)


def _parsed(n: int, raw: bytes) -> Parsed:
    """(n, raw, the event or why it is invalid): one validation for every input form."""
    try:
        return n, raw, parse_event(raw)
    except InvalidEvent as exc:
        return n, raw, exc


def valid_events(log: Path, event_time: EventTimeSettings | None = None
                 ) -> Iterator[AnyEvent]:
    """The events of a log that replay would take in (valid, with a believable event
    time); ``replay --dead-letter`` lists the others."""
    guard = EventTimeGuard(event_time or EventTimeSettings())
    with log.open("rb") as src:
        for _, _, event in read_log(src):
            if not isinstance(event, InvalidEvent) and guard.refuse(event.ts) is None:
                yield event


class _Items:
    """Parsed input items, counting lines and invalid ones as they pass (``strict``:
    raising at the first invalid one)."""

    def __init__(self, source: Iterator[Parsed], close: Callable[[], None],
                 strict: bool = False) -> None:
        self._source, self.close, self.strict = source, close, strict
        self.lines = self.invalid = 0
        self.on_lines: Callable[[int], None] | None = None
        """Called every ``_EVERY_LINES`` lines with the count so far."""

    def __iter__(self) -> Iterator[Parsed]:
        for item in self._source:
            self.lines += 1
            if self.on_lines is not None and not self.lines % _EVERY_LINES:
                self.on_lines(self.lines)
            if isinstance(item[2], InvalidEvent):
                if self.strict:
                    raise InvalidInput(f"input {item[0]} is not a valid event: {item[2]}")
                self.invalid += 1
            yield item

    def __enter__(self) -> _Items:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_EVERY_LINES = 4096


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


def _items(events: Events | BinaryIO, progress: bool = False, strict: bool = False
           ) -> _Items:
    if isinstance(events, Mapping):
        raise TypeError("events is one event (a dict): pass a list of events, [event]")
    if isinstance(events, bytes | bytearray) or (
            isinstance(events, str) and events.lstrip().startswith(("{", "["))):
        raise TypeError("events is JSON text, but a str is read as a path: pass a list of "
                        "JSON lines ([line]), or the path of a log")
    if isinstance(events, str | os.PathLike):
        path = Path(events)
        src = path.open("rb")
        lines = _progress(src, path.stat().st_size) if progress else src
        return _Items(read_log(lines), src.close, strict)
    if isinstance(events, io.IOBase):
        return _Items(read_log(events), lambda: None, strict)
    return _Items(_parse_each(events), lambda: None, strict)


_EVENT_MODELS = get_args(AnyEvent)


def _parse_each(events: Iterable[EventLike]) -> Iterator[Parsed]:
    for n, item in enumerate(events, 1):
        if isinstance(item, bytes | str):
            raw = (item.encode() if isinstance(item, str) else item).rstrip(b"\r\n")
        elif isinstance(item, Mapping):
            try:
                raw = orjson.dumps(item)
            except TypeError as exc:
                yield n, repr(item).encode(), InvalidEvent(f"not JSON-serialisable: {exc}")
                continue
        elif isinstance(item, _EVENT_MODELS):
            yield n, item.model_dump_json().encode(), item
            continue
        else:
            yield n, repr(item).encode(), InvalidEvent(
                f"{type(item).__name__} is not an event: pass event models, dicts or JSON")
            continue
        yield _parsed(n, raw)


def _progress(src: BinaryIO, total: int) -> Iterator[bytes]:
    with tqdm(total=total, unit="B", unit_scale=True, desc="replay", file=sys.stderr) as bar:
        for raw in src:
            bar.update(len(raw))
            yield raw


# --- small conversions ---------------------------------------------------------------


MILLISECONDS = 1e11
"""POSIX seconds this large are past the year 5000: such a number is milliseconds."""


def as_of_seconds(as_of: AsOf) -> float | None:
    """POSIX seconds of an ``as_of`` given as datetime, date (midnight UTC), RFC 3339
    string or number."""
    if as_of is None:
        return None
    if isinstance(as_of, int | float):
        if abs(as_of) >= MILLISECONDS:
            raise ValueError(f"as_of={as_of!r} looks like milliseconds: pass POSIX seconds "
                             f"({as_of / 1000!r})")
        return float(as_of)
    if isinstance(as_of, str):
        return parse_rfc3339(as_of).timestamp()
    if not isinstance(as_of, datetime):
        return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC).timestamp()
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (a naive time has no place on the "
                         "event-time axis)")
    return as_of.timestamp()


def _settings(settings: Settings | Mapping[str, Any] | None) -> Settings:
    if isinstance(settings, Settings):
        return settings
    return from_mapping(settings or {})


def _counts(stats: Stats, lines: int, invalid: int, customers: int) -> Counts:
    return Counts(lines=lines, invalid=invalid, accepted=stats.accepted,
                  duplicates=stats.duplicates, late=stats.late, out_of_time=stats.out_of_time,
                  customers=customers,
                  alerts=dict(sorted(stats.alerts.items())),
                  suppressed=dict(sorted(stats.suppressed.items())),
                  held_out=dict(sorted(stats.held_out.items())),
                  actions=dict(sorted(stats.actions.items())))


def _alert_line(alert: Alert) -> bytes:
    return alert.model_dump_json().encode() + b"\n"


def _summary_line(line: CustomerSummary) -> bytes:
    return line.model_dump_json().encode() + b"\n"
