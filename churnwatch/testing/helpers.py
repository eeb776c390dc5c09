"""Helpers for testing with churnwatch: build event logs, assert on alerts, golden files.

Plain functions, usable from any test runner; the pytest plugin
(:mod:`churnwatch.testing.plugin`) wraps them in fixtures::

    from churnwatch.testing import EventLog, assert_fired
    from churnwatch import replay

    log = EventLog().orders("c1", days=[0, 10, 20, 30]).order("c1", day=40, amount=20)
    assert_fired(replay(log), "c1", "basket_drop")
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from churnwatch.models.alert import Alert, rfc3339
from churnwatch.models.events import InvalidEvent, parse_event, parse_rfc3339
from churnwatch.replayer import ReplayResult

DAY = 86_400.0


class EventLog:
    """A log of valid events placed on days counted from ``start``, for tests and examples.

    Every method returns the log, so calls chain; event ids are numbered in the order
    events are added, so the same calls give the same log. Iterating yields the events
    as dicts in the order added (replay orders them by event time itself).
    """

    def __init__(self, start: str | datetime = "2024-01-01T00:00:00Z",
                 id_prefix: str = "e") -> None:
        self.start = parse_rfc3339(start) if isinstance(start, str) else start
        self.id_prefix = id_prefix
        self.events: list[dict[str, Any]] = []

    def time(self, day: float) -> datetime:
        """The moment ``day`` days after the start (for ``as_of`` and assertions)."""
        return (self.start + timedelta(days=day)).astimezone(UTC)

    def add(self, kind: str, customer: str, day: float, **fields: Any) -> EventLog:
        """Any event: ``kind`` and the contract's fields for it (docs/CONTRACT.md). An
        event the contract refuses raises here, naming the field, rather than vanishing
        into a dead letter and leaving a test to say only that nothing fired."""
        n = len(self.events)
        event = {"kind": kind, "event_id": f"{self.id_prefix}{n}", "customer_id": customer,
                 "occurred_at": rfc3339(self.time(day)), **fields}
        try:
            parsed = parse_event(orjson.dumps(event))
        except InvalidEvent as exc:
            raise ValueError(f"not a valid {kind} event (customer {customer!r}, day {day:g}): "
                             f"{exc}") from None
        known = type(parsed).model_fields
        # the contract ignores unknown fields; a test helper must not (a typo would pass)
        for name in sorted(fields.keys() - known.keys()):
            guess = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            raise ValueError(f"{kind} events have no field {name!r}: {hint}"
                             f"(fields: {', '.join(known)})")
        self.events.append(event)
        return self

    # --- orders -----------------------------------------------------------------------

    def order(self, customer: str, day: float, amount: float = 100.0, **fields: Any
              ) -> EventLog:
        fields.setdefault("order_id", f"o{len(self.events)}")
        return self.add("order", customer, day, amount=amount, **fields)

    def orders(self, customer: str, days: Iterable[float], amount: float = 100.0
               ) -> EventLog:
        for day in days:
            self.order(customer, day, amount)
        return self

    # --- engagement -------------------------------------------------------------------

    def engagement(self, customer: str, day: float, action: str, **fields: Any) -> EventLog:
        return self.add("engagement", customer, day, action=action, **fields)

    def visits(self, customer: str, days: Iterable[float]) -> EventLog:
        for day in days:
            self.engagement(customer, day, "visit")
        return self

    def unfollow(self, customer: str, day: float, channel: str | None = None) -> EventLog:
        return self.engagement(customer, day, "unfollow",
                               **({"channel": channel} if channel else {}))

    def offer(self, customer: str, day: float, promotion_id: str, lasts_days: float = 10
              ) -> EventLog:
        return self.engagement(customer, day, "promotion_offered", promotion_id=promotion_id,
                               expires_at=rfc3339(self.time(day + lasts_days)))

    def survey(self, customer: str, day: float, score: int) -> EventLog:
        return self.engagement(customer, day, "survey", score=score)

    # --- complaints -------------------------------------------------------------------

    def complaint(self, customer: str, day: float, severity: str, ticket: str = "t1",
                  **fields: Any) -> EventLog:
        return self.add("complaint", customer, day, ticket_id=ticket, severity=severity,
                        **fields)

    # --- output -----------------------------------------------------------------------

    # --- actions (marketing reporting back) -----------------------------------------

    def action(self, customer: str, day: float, alert_id: str, action: str = "contacted",
               **fields: Any) -> EventLog:
        """Marketing acted on the alert with this id (``channel``, ``offer_cost``)."""
        return self.add("action", customer, day, alert_id=alert_id, action=action, **fields)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def to_jsonl(self) -> bytes:
        return b"".join(orjson.dumps(e) + b"\n" for e in self.events)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the log as JSON Lines (what ``churnwatch replay`` and ``produce`` read)."""
        out = Path(path)
        out.write_bytes(self.to_jsonl())
        return out


def assert_fired(result: ReplayResult, customer: str, signal: str, *,
                 count: int | None = None) -> list[Alert]:
    """Assert that ``signal`` alerted for ``customer`` (exactly ``count`` times if given);
    return those alerts for further checks."""
    found = result.alerts_for(customer, signal)
    if not found or (count is not None and len(found) != count):
        wanted = f"{count} {signal} alert(s)" if count is not None else f"a {signal} alert"
        raise AssertionError(f"expected {wanted} for {customer!r}, got {len(found)}; "
                             f"{_alerted(result, customer)}")
    return found


def assert_not_fired(result: ReplayResult, customer: str, signal: str | None = None) -> None:
    """Assert that ``signal`` (or, without one, any signal) did not alert for ``customer``."""
    if result.alerts_for(customer, signal):
        what = f"no {signal} alert" if signal else "no alert"
        raise AssertionError(f"expected {what} for {customer!r}; {_alerted(result, customer)}")


def _alerted(result: ReplayResult, customer: str) -> str:
    alerts = result.alerts_for(customer)
    if not alerts:
        return "it had no alerts"
    return "its alerts: " + ", ".join(
        f"{a.data.signal} at {rfc3339(a.time)} ({a.data.reasons[0].text})"
        if a.data.reasons else f"{a.data.signal} at {rfc3339(a.time)}" for a in alerts)


def assert_matches_golden(result: ReplayResult, prefix: str | os.PathLike[str], *,
                          update: bool = False) -> None:
    """Compare the replay's files with ``PREFIX.alerts.jsonl``, ``PREFIX.customers.jsonl``
    and ``PREFIX.dead-letter.jsonl`` byte for byte, and with ``PREFIX.holdout.jsonl``
    where there are held-out alerts or that file; ``update`` writes them instead."""
    base = Path(prefix)
    problems = []
    for kind, actual in result.outputs().items():
        path = base.with_name(f"{base.name}.{kind}.jsonl")
        if kind == "holdout" and not actual and not path.exists():
            continue  # no holdout: golden files from before holdouts stay complete
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(actual)
        elif not path.exists():
            problems.append(f"{path} does not exist")
        elif (expected := path.read_bytes()) != actual:
            problems.append(f"{path} differs:\n" + _diff(expected, actual))
    if problems:
        raise AssertionError("\n".join(problems) + "\n(review the change, then accept it "
                             "with pytest --churnwatch-update-golden)")


def _diff(expected: bytes, actual: bytes, lines: int = 6) -> str:
    """The first differing lines, and for JSON lines the fields that differ."""
    old, new = expected.splitlines(), actual.splitlines()
    out = [f"  {len(old)} lines in the golden file, {len(new)} in this run"]
    pairs = [(n, a, b) for n, (a, b) in enumerate(zip(old, new, strict=False), 1) if a != b]
    for n, a, b in pairs[:lines]:
        fields = _changed_fields(orjson.loads(a), orjson.loads(b)) if _is_json(a, b) else []
        out.append(f"  line {n}: " + ("; ".join(fields[:5]) if fields else
                                      f"{a[:80]!r} -> {b[:80]!r}"))
    if len(pairs) > lines:
        out.append(f"  ... and {len(pairs) - lines} more differing lines")
    return "\n".join(out)


def _is_json(*lines: bytes) -> bool:
    try:
        return all(isinstance(orjson.loads(line), dict) for line in lines)
    except orjson.JSONDecodeError:
        return False


def _changed_fields(old: Any, new: Any, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [change for key in sorted(old.keys() | new.keys(), key=str)
                for change in _changed_fields(old.get(key), new.get(key), f"{path}.{key}")]
    if old != new:
        return [f"{path.lstrip('.') or 'value'}: {old!r} -> {new!r}"]
    return []
