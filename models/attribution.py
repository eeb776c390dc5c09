"""What became of each alert: was it acted on in time, and did the customer come back?

Every warning alert opens a record in its customer's state (``CustomerState.loop``). An
action reported for it answers it; a placed order within the attribution window after it
marks it won back, with the order's value; when event time passes the window's end the
record closes into an :class:`AlertOutcome`. A treated alert also carries its tier's
response deadline, which a follow-up tracker turns into ``follow_up_overdue`` once
(signals/follow_up.py). Held-out alerts get no deadline: nobody is meant to act on them.

All of it runs on event time, in the customer's item order, so replay and the workers
reach the same records; only the alert id's CRC is stored, like other ids in state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from churnwatch.models.events import ActionTaken, Order
from churnwatch.models.rfm import RESPOND_HOURS
from churnwatch.models.state import CustomerState, cents, id_hash
from churnwatch.models.vocabulary import TIERS

# positions in a loop record (a list: states are positional msgpack)
ALERT, SIGNAL, TIER, AT, HELD, DUE, ACTION, WON, REVENUE, COST = range(10)


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """One alert's closed attribution window. ``customer`` is for the outcome report's
    clustering only: metrics count the rest."""

    customer: str
    signal: int
    """signal code (``signals.base.CODES``)"""
    tier: int
    """tier rank at the alert (0 = diamond)"""
    held_out: bool
    action: str | None
    """the first action reported for it; None if none was"""
    won: bool
    revenue: float
    cost: float
    alerted_at: int


@dataclass(frozen=True, slots=True)
class Response:
    """An action that answered a treated alert: how long it took, against which tier."""

    tier: int
    seconds: int
    late: bool
    """after the tier's response window"""


def open_record(state: CustomerState, alert_id: str, signal: int, tier: int, at: int,
                held_out: bool, due: int) -> None:
    """``due``: the response deadline to watch (0: none)."""
    state.loop.append([id_hash(alert_id), signal, tier, at, int(held_out), due, "", 0, 0, 0])


def answer(state: CustomerState, action: ActionTaken) -> Response | bool:
    """Take in an action report. A :class:`Response` for the first action on a treated
    alert; True for any other action on a known alert (a repeat, or one on a held-out
    alert); False for an alert this customer has no open record of."""
    key = id_hash(action.alert_id)
    for record in state.loop:
        if record[ALERT] != key:
            continue
        record[COST] += cents(action.offer_cost or 0.0)
        if record[ACTION]:
            return True
        record[ACTION] = action.action
        record[DUE] = 0
        if record[HELD]:
            return True
        seconds = max(0, int(action.ts) - record[AT])
        window = RESPOND_HOURS[TIERS[record[TIER]]] * 3600
        return Response(record[TIER], seconds, late=seconds > window)
    return False


def bought(state: CustomerState, order: Order, window: int) -> None:
    """A placed order wins back every open alert it falls after, within its window."""
    t = int(order.ts)
    for record in state.loop:
        if record[AT] < t <= record[AT] + window:
            record[WON] = 1
            record[REVENUE] += cents(order.amount)


def due(state: CustomerState, window: int) -> int:
    """The next moment a record needs event time to pass: a response deadline or a
    window's end; 0 if none."""
    best = 0
    for record in state.loop:
        for t in (record[DUE], record[AT] + window):
            if t and (not best or t < best):
                best = t
    return best


def overdue(state: CustomerState, now: float) -> list[list[Any]]:
    """Records whose response deadline passed without an action; each only once."""
    late = [r for r in state.loop if r[DUE] and r[DUE] <= now]
    for record in late:
        record[DUE] = 0
    return late


def close(customer: str, state: CustomerState, now: float, window: int
          ) -> list[AlertOutcome]:
    """Records whose attribution window has ended, taken out of the state."""
    ended = [r for r in state.loop if r[AT] + window <= now]
    if not ended:
        return []
    state.loop = [r for r in state.loop if r[AT] + window > now]
    return [AlertOutcome(customer=customer, signal=r[SIGNAL], tier=r[TIER], held_out=bool(r[HELD]),
                         action=r[ACTION] or None, won=bool(r[WON]), revenue=r[REVENUE] / 100,
                         cost=r[COST] / 100, alerted_at=r[AT]) for r in ended]
