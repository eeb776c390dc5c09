"""Builders for event sequences and a one-call detector run, shared by the tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from churnwatch.engine import AlertOut, Detector
from churnwatch.models.alert import Alert
from churnwatch.models.events import AnyEvent, parse_event
from churnwatch.settings import Settings

T0 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
DAY = 86_400.0
_ids = itertools.count()


def at(day: float) -> str:
    return datetime.fromtimestamp(T0 + day * DAY, UTC).isoformat().replace("+00:00", "Z")


def event(kind: str, day: float, customer: str = "c1", **fields: Any) -> AnyEvent:
    body = {"kind": kind, "event_id": f"e{next(_ids)}", "customer_id": customer,
            "occurred_at": at(day), **fields}
    return parse_event(orjson.dumps(body))


def order(day: float, amount: float = 100.0, customer: str = "c1", **fields: Any) -> AnyEvent:
    fields.setdefault("order_id", f"o{next(_ids)}")
    return event("order", day, customer, amount=amount, **fields)


def engage(action: str, day: float, customer: str = "c1", **fields: Any) -> AnyEvent:
    return event("engagement", day, customer, action=action, **fields)


def offer(day: float, promotion_id: str, length_days: float = 10, customer: str = "c1"
          ) -> AnyEvent:
    return engage("promotion_offered", day, customer, promotion_id=promotion_id,
                  expires_at=at(day + length_days))


def complaint(day: float, ticket: str, severity: str, customer: str = "c1",
              **fields: Any) -> AnyEvent:
    return event("complaint", day, customer, ticket_id=ticket, severity=severity, **fields)


def regular_orders(customer: str, first: float, last: float, every: float,
                   amount: float = 100.0) -> list[AnyEvent]:
    out, day = [], first
    while day <= last:
        out.append(order(day, amount, customer))
        day += every
    return out


def detect(events: Iterable[AnyEvent], *, as_of_day: float | None = None,
           settings: Settings | None = None) -> list[Alert]:
    """Feed events in the given order, then let event time run on to ``as_of_day``. The
    alerts as the API's models: each validated against the contract's schema on the way."""
    detector = Detector(settings or Settings())
    alerts: list[AlertOut] = []
    for e in events:
        detector.ingest(e)
        alerts += detector.advance()
    alerts += detector.finish(None if as_of_day is None else T0 + as_of_day * DAY)
    return [a.model() for a in alerts]


def signals_of(alerts: Iterable[Alert], customer: str = "c1") -> list[str]:
    return [a.data.signal for a in alerts if a.subject == customer]


def by_time(events: Iterable[AnyEvent]) -> list[AnyEvent]:
    return sorted(events, key=lambda e: e.ts)
