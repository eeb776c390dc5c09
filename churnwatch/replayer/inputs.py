"""Reading input: a log file, standard input, or Python objects, each item validated once
into (position, original bytes, event or why it is invalid)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO, get_args

import orjson
from tqdm import tqdm

from churnwatch.engine import EventTimeGuard
from churnwatch.models.events import AnyEvent, InvalidEvent, parse_event, parse_rfc3339
from churnwatch.replayer.results import InvalidInput
from churnwatch.signals.detection import EventTimeSettings

EventLike = AnyEvent | Mapping[str, Any] | bytes | str
"""One event: a parsed event model, a dict, or one JSON line (bytes or str)."""
Events = str | os.PathLike[str] | Iterable[EventLike]
"""A path to a JSON Lines log, or any iterable of events."""
AsOf = datetime | date | str | float | None
"""An aware datetime, a date (its midnight UTC), an RFC 3339 string, or POSIX seconds."""

Parsed = tuple[int, bytes, AnyEvent | InvalidEvent]

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


class Items:
    """Parsed input items, counting lines and invalid ones as they pass (``strict``:
    raising at the first invalid one)."""

    def __init__(self, source: Iterator[Parsed], close: Callable[[], None],
                 strict: bool = False) -> None:
        self._source, self.close, self.strict = source, close, strict
        self.lines = self.invalid = 0
        self.on_lines: Callable[[int], None] | None = None
        """Called every ``EVERY_LINES`` lines with the count so far."""

    def __iter__(self) -> Iterator[Parsed]:
        for item in self._source:
            self.lines += 1
            if self.on_lines is not None and not self.lines % EVERY_LINES:
                self.on_lines(self.lines)
            if isinstance(item[2], InvalidEvent):
                if self.strict:
                    raise InvalidInput(f"input {item[0]} is not a valid event: {item[2]}")
                self.invalid += 1
            yield item

    def __enter__(self) -> Items:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


EVERY_LINES = 4096


def open_items(events: Events | BinaryIO, progress: bool = False, strict: bool = False
           ) -> Items:
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
        return Items(read_log(lines), src.close, strict)
    if isinstance(events, io.IOBase):
        return Items(read_log(events), lambda: None, strict)
    return Items(_parse_each(events), lambda: None, strict)


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
