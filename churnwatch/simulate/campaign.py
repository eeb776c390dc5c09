"""A simulated marketing system acting on a generated log's alerts, with a known effect.

``churnwatch generate --actions`` plays marketing on the generated log: every warning
alert of a treated customer is acted on (most of them) after a delay drawn around its
tier's response window, so some actions come late; an action brings back, with its
signal's true effect as the chance, a customer who would not have bought within the
attribution window anyway (one extra order in the window). Held-out customers get nothing.

Acting changes what follows: a customer won back is not silent any more, or goes silent
again later and is alerted again, and that alert is acted on too. So the campaign is played
to its fixed point, the same way for every customer: replay, act on every alert, replay the
log with the actions' effects, until the alerts no longer change (each pass can only change
alerts after an action, so this ends). That is the world where everyone is treated; the
generated log as it was is the world where nobody is. The true uplift of a signal is the
difference of its win-back rates between the two worlds, over all customers, counted here
from the orders themselves (not by the engine's attribution, which the report uses), and it
goes to the labels file. The log written keeps the campaign's events for treated customers
only: its outcome report must find each signal's true uplift within its interval.

Every draw for an alert is seeded by the alert's id, so the same log and seed give the same
campaign, whatever order alerts come in.
"""

from __future__ import annotations

import bisect
import contextlib
import heapq
import math
import random
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from churnwatch.engine import AlertOut, Detector
from churnwatch.errors import UserError
from churnwatch.models.alert import Alert, rfc3339
from churnwatch.models.events import Order, parse_event
from churnwatch.models.holdout import Holdout
from churnwatch.models.rfm import RESPOND_HOURS
from churnwatch.models.state import DAY
from churnwatch.replayer import replay, valid_events
from churnwatch.settings import Settings
from churnwatch.simulate.labels import CAMPAIGN

PLAYS: dict[str, tuple[str, str, float]] = {
    # signal: (action reported, channel, offer cost)
    "promotion_skipped": ("offer_sent", "app_message", 5.0),
    "basket_drop": ("offer_sent", "email", 3.0),
    "complaint_escalated": ("call_back", "phone", 0.0),
    "unfollowed": ("contacted", "sms", 0.0),
    "engagement_drop": ("contacted", "app_message", 0.0),
    "gone_quiet": ("offer_sent", "sms", 8.0),
    "segment_at_risk": ("call_back", "phone", 15.0),
    "nps_detractor": ("call_back", "phone", 0.0),
}
EFFECTS: Mapping[str, float] = {
    # chance that acting wins back a customer who would not have bought in the window
    "promotion_skipped": 0.25, "basket_drop": 0.2, "complaint_escalated": 0.4,
    "unfollowed": 0.15, "engagement_drop": 0.0, "gone_quiet": 0.3, "segment_at_risk": 0.35,
    "nps_detractor": 0.3,
}
"""``engagement_drop``'s own action does nothing: what uplift it shows comes from the
actions on the same customers' other alerts (the holdout is by customer)."""
ACT_RATE = 0.9
"""Share of treated alerts marketing acts on at all."""
DELAY = (-0.8, 0.8)
"""log(delay / tier window) is normal with this mean and deviation: ~16 % come late."""
MAX_PASSES = 12


@dataclass(frozen=True)
class Truth:
    """One signal's win-back in the two worlds, over alerts whose window ends in the log."""

    effect: float
    treated_alerts: int
    treated_won: int
    untreated_alerts: int
    untreated_won: int

    @property
    def uplift(self) -> float | None:
        if not self.treated_alerts or not self.untreated_alerts:
            return None
        return (self.treated_won / self.treated_alerts
                - self.untreated_won / self.untreated_alerts)

    def as_label(self) -> dict[str, Any]:
        uplift = self.uplift
        return {"effect": self.effect, "alerts_if_all_treated": self.treated_alerts,
                "won_if_all_treated": self.treated_won,
                "alerts_if_none_treated": self.untreated_alerts,
                "won_if_none_treated": self.untreated_won,
                "true_uplift": None if uplift is None else round(uplift, 6)}


@dataclass(frozen=True)
class CampaignResult:
    actions: int
    win_backs: int
    passes: int
    truth: dict[str, Truth]


def run_campaign(log: Path, labels: Path, settings: Settings, seed: int,
                 effects: Mapping[str, float] = EFFECTS) -> CampaignResult:
    """Add the campaign's actions and win-back orders for treated customers to ``log``;
    its truth to ``labels``. The holdout is ``settings.loop``'s, by customer."""
    loop = settings.loop
    if loop.holdout_by_signal:
        raise UserError("the simulated campaign holds out whole customers: "
                        "loop.holdout_by_signal must be empty")
    everyone = settings.changed("loop", holdout_share=0.0)
    base = log.read_bytes().splitlines()
    natural, end = _orders(valid_events(log))
    window = loop.attribution_days * DAY
    untreated = replay(log, settings=everyone).alerts
    marketing = _Marketing(natural, window, end, seed, effects)
    alerts, passes = _simulate(log, everyone, marketing), 0
    with tempfile.TemporaryDirectory(prefix="churnwatch-campaign-") as tmp:
        world = Path(tmp) / "treated.jsonl"
        while True:  # the simulation's alerts, checked by replay until they hold
            passes += 1
            added = _campaign(alerts, marketing)
            _write(world, base, [e for events in added.values() for e in events])
            again = replay(world, settings=everyone).alerts
            if [a.id for a in again] == [a.id for a in alerts] or passes == MAX_PASSES:
                break
            alerts = again
        treated_orders, _ = _orders(valid_events(world))
    truth = {signal: Truth(effect, *_won(alerts, treated_orders, signal, window, end),
                           *_won(untreated, natural, signal, window, end))
             for signal, effect in effects.items()}
    holdout = Holdout(loop.holdout_share, {}, loop.holdout_salt)
    kept = [e for cid, events in added.items() if not holdout.holds(cid, "")
            for e in events]
    _write(log, base, kept)
    with labels.open("ab") as out:
        out.write(orjson.dumps({CAMPAIGN: {
            "holdout_share": loop.holdout_share, "holdout_salt": loop.holdout_salt,
            "attribution_days": loop.attribution_days, "act_rate": ACT_RATE,
            "plays": {s: list(p) for s, p in PLAYS.items()}, "passes": passes,
            "signals": {s: t.as_label() for s, t in truth.items()}}}) + b"\n")
    actions = sum(b'"kind":"action"' in line for _, line in kept)
    return CampaignResult(actions, len(kept) - actions, passes, truth)


Orders = dict[str, tuple[list[float], list[float]]]
"""customer -> (sorted times of placed orders, their amounts)"""


@dataclass(frozen=True)
class _Marketing:
    """The simulated team: what it knows when it acts on an alert."""

    natural: Orders
    window: float
    end: float
    """the log's newest event: nothing is added after it"""
    seed: int
    effects: Mapping[str, float]

    def act(self, alert: Alert) -> list[tuple[float, bytes]]:
        """Acting on one alert: the action reported and, if it works on a customer who
        would not have come back anyway, the order that brings them back; nothing for
        alerts that ask for no action (recovered, follow_up_overdue). Every draw is
        seeded by the alert's id."""
        if alert.data.signal not in PLAYS:
            return []
        rng = random.Random(f"{self.seed}/{alert.id}")
        window, end = self.window, self.end
        t = alert.time.timestamp()
        times, amounts = self.natural.get(alert.subject, ([], []))
        acts = rng.random() < ACT_RATE
        delay = RESPOND_HOURS[alert.data.tier] * 3600 * math.exp(rng.gauss(*DELAY))
        works = rng.random() < self.effects[alert.data.signal] and delay < window
        back_at = t + delay + rng.uniform(0.1, 0.9) * (window - delay)
        amount = round((sum(amounts) / len(amounts) if amounts else 50.0)
                       * rng.uniform(0.8, 1.2), 2)
        if not acts or t + delay > end:
            return []
        action, channel, cost = PLAYS[alert.data.signal]
        out = [(t + delay, _line("action", alert, t + delay, alert_id=alert.id,
                                 action=action, channel=channel, offer_cost=cost))]
        if works and back_at <= end and not _bought_within(times, t, t + window):
            out.append((back_at, _line("order", alert, back_at, order_id=f"win-{alert.id}",
                                       amount=amount, currency="EUR")))
        return out


def _simulate(log: Path, settings: Settings, marketing: _Marketing) -> list[Alert]:
    """The alerts of the world where everyone is treated, in one pass: the detector runs
    over the log while each alert's campaign events join the input at their time. Nearly
    what replaying that world gives (a campaign event can reach its customer after a later
    item and be refused as late); ``run_campaign`` replays to be sure."""
    detector = Detector(settings)
    future: list[tuple[float, int, bytes]] = []
    alerts: list[Alert] = []

    def take(found: list[AlertOut]) -> None:
        for out in found:
            alert = out.model()
            alerts.append(alert)
            for at, line in marketing.act(alert):
                heapq.heappush(future, (at, len(future), line))

    for event in valid_events(log):
        while future and future[0][0] <= event.ts:
            detector.ingest(parse_event(heapq.heappop(future)[2]))
        detector.ingest(event)
        take(detector.advance())
    while future:
        detector.ingest(parse_event(heapq.heappop(future)[2]))
        take(detector.advance())
    take(detector.finish())
    return alerts


def _campaign(alerts: Iterable[Alert], marketing: _Marketing
              ) -> dict[str, list[tuple[float, bytes]]]:
    """The events acting on every one of ``alerts`` adds, by customer."""
    added: dict[str, list[tuple[float, bytes]]] = defaultdict(list)
    for alert in alerts:
        added[alert.subject] += marketing.act(alert)
    return added


def _won(alerts: Iterable[Alert], orders: Orders, signal: str, window: float, end: float
         ) -> tuple[int, int]:
    """(alerts of ``signal`` whose window ends by ``end``, those followed by an order)."""
    n = won = 0
    for alert in alerts:
        t = alert.time.timestamp()
        if alert.data.signal == signal and t + window <= end:
            n += 1
            won += _bought_within(orders.get(alert.subject, ([], []))[0], t, t + window)
    return n, won


def _line(kind: str, alert: Alert, at: float, **fields: Any) -> bytes:
    prefix = "act" if kind == "action" else "win"
    return orjson.dumps({"kind": kind, "event_id": f"{prefix}-{alert.id}",
                         "customer_id": alert.subject,
                         "occurred_at": rfc3339(datetime.fromtimestamp(int(at), UTC)),
                         **fields})


def _orders(events: Iterable[Any]) -> tuple[Orders, float]:
    """Each customer's placed orders, and the time of the newest event."""
    out: Orders = defaultdict(lambda: ([], []))
    end = -math.inf
    for event in events:
        end = max(end, event.ts)
        if isinstance(event, Order) and event.status == "placed":
            times, amounts = out[event.customer_id]
            bisect.insort(times, event.ts)
            amounts.append(event.amount)
    return out, end


def _bought_within(times: list[float], after: float, until: float) -> bool:
    i = bisect.bisect_right(times, after)
    return i < len(times) and times[i] <= until


def _write(path: Path, base: list[bytes], added: list[tuple[float, bytes]]) -> None:
    """``base`` lines with ``added`` (time, line) merged in by event time; a base line
    whose time cannot be read keeps its place after the line before it."""
    with path.open("wb") as out:
        for _, line in heapq.merge(_timed(base), sorted(added, key=_first), key=_first):
            out.write(line + b"\n")


def _first(item: tuple[float, bytes]) -> float:
    return item[0]


def _timed(lines: list[bytes]) -> Iterator[tuple[float, bytes]]:
    last = -math.inf
    for line in lines:
        with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            last = datetime.fromisoformat(orjson.loads(line)["occurred_at"]).timestamp()
        yield last, line
