"""Did acting on alerts win customers back? The outcome report over a replayed log.

Every warning alert's attribution window (``loop.attribution_days`` of event time) closes
into an outcome: treated or held out, won back or not, the revenue within the window
(models/attribution.py). Grouped per signal, per signal and tier, and per signal, tier and
the action marketing reported, the report compares the treated alerts with the held-out
ones: each group's win-back rate with its 95 % interval, the uplift with its interval and
a two-proportion test, and the incremental revenue per alert (models/uplift.py). It is an
intention-to-treat comparison: a treated alert counts whether or not anyone acted on it,
as a holdout test must (the group nobody was meant to contact is the only fair baseline).
Customers are what the holdout assigns, so intervals allow for one customer's alerts going
together (models/uplift.py). A group smaller than ``loop.min_group`` says "not enough
data" instead of a number.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from churnwatch.models.attribution import AlertOutcome, Response
from churnwatch.models.rfm import RESPOND_HOURS
from churnwatch.models.uplift import Z95, Group, Uplift, uplift
from churnwatch.models.vocabulary import SIGNAL_NAMES, TIERS
from churnwatch.replayer import AsOf, Events, ReplayResult, replay
from churnwatch.settings import Settings

ALL = "all"


@dataclass(frozen=True)
class Row:
    """One comparison. ``tier`` and ``action`` are ``"all"`` where not split; an action
    row compares the treated alerts with that action against all held-out ones."""

    signal: str
    tier: str
    action: str
    treated: Group
    held_out: Group
    enough: bool
    uplift: Uplift | None
    """None when either group is smaller than the minimum"""

    def to_json(self) -> dict[str, Any]:
        def group(g: Group) -> dict[str, Any]:
            lo, hi = g.interval
            return {"alerts": g.n, "won_back": g.won, "rate": _r(g.rate),
                    "interval": [_r(lo), _r(hi)], "revenue": _r(g.revenue),
                    "offer_cost": _r(g.cost)}
        out: dict[str, Any] = {"signal": self.signal, "tier": self.tier,
                               "action": self.action, "treated": group(self.treated),
                               "held_out": group(self.held_out)}
        if self.uplift is None:  # an object either way: readers test one field, status
            out["uplift"] = {"status": "not enough data"}
        else:
            u = self.uplift
            out["uplift"] = {"status": "measured", "difference": _r(u.difference),
                             "interval": [_r(u.interval[0]), _r(u.interval[1])],
                             "p_value": _r(u.p_value),
                             "revenue_per_alert": _r(u.revenue_per_alert),
                             "revenue_interval": [_r(u.revenue_interval[0]),
                                                  _r(u.revenue_interval[1])]}
        return out


@dataclass(frozen=True)
class TierResponse:
    """How fast treated alerts of a tier were acted on, against its window."""

    tier: str
    window_hours: int
    answered: int
    late: int
    overdue: int
    """follow_up_overdue raised (alerts never answered in time, follow-ups on)"""
    hours: tuple[float, ...]
    """every response time, sorted"""

    def percentile(self, q: float) -> float | None:
        """The response time ``q`` of the way up (the nearest rank below); None if none."""
        h = self.hours
        return round(h[min(len(h) - 1, int(q * len(h)))], 2) if h else None

    @property
    def median_hours(self) -> float | None:
        return round(statistics.median(self.hours), 2) if self.hours else None

    def to_json(self) -> dict[str, Any]:
        return {"tier": self.tier, "window_hours": self.window_hours,
                "answered": self.answered, "late": self.late, "overdue": self.overdue,
                "median_hours": self.median_hours, "p90_hours": self.percentile(0.9)}


@dataclass(frozen=True)
class Saved:
    """Incremental revenue of treated alerts against the held-out baseline, by the month of
    the alerts."""

    month: str
    revenue: float
    """that month's alerts alone: per signal, its treated alerts times the difference in
    mean revenue per alert between the groups (a signal with no held-out alert that month
    counts nothing)"""
    cumulative: float
    """every alert up to this month, pooled the same way: what the cumulative plot shows"""
    interval: tuple[float, float]
    """95 % interval of ``cumulative``, customers as clusters as everywhere in the report"""

    def to_json(self) -> dict[str, Any]:
        return {"month": self.month, "incremental_revenue": _r(self.revenue),
                "cumulative_revenue": _r(self.cumulative),
                "cumulative_interval": [_r(self.interval[0]), _r(self.interval[1])]}


@dataclass(frozen=True)
class OutcomeReport:
    rows: list[Row]
    responses: list[TierResponse]
    saved_by_month: list[Saved]
    closed: int
    attribution_days: float
    min_group: int
    currency: str = ""  # loop.currency: what revenue figures are named in

    def money(self, value: float) -> str:
        """A signed amount with the currency, if one is set."""
        return f"{value:+,.2f}" + (f" {self.currency}" if self.currency else "")

    def row(self, signal: str, tier: str = ALL, action: str = ALL) -> Row:
        for row in self.rows:
            if (row.signal, row.tier, row.action) == (signal, tier, action):
                return row
        raise KeyError(f"no outcomes for {signal}/{tier}/{action}")

    def to_json(self) -> dict[str, Any]:
        return {"attribution_days": self.attribution_days, "min_group": self.min_group,
                "currency": self.currency or None,
                "closed_alerts": self.closed,
                "verdicts": [v.to_json() for v in verdicts(self)],
                "rows": [r.to_json() for r in self.rows],
                "responses": [t.to_json() for t in self.responses],
                "saved_by_month": [s.to_json() for s in self.saved_by_month]}


def outcomes(events: Events, *, settings: Settings | Mapping[str, Any] | None = None,
             as_of: AsOf = None) -> OutcomeReport:
    """Replay ``events`` (with the actions marketing reported) and report the outcomes:
    the Python face of ``churnwatch outcomes``."""
    chosen = settings if isinstance(settings, Settings) else Settings.build(**(settings or {}))
    return report(replay(events, settings=chosen, as_of=as_of), chosen)


def report(result: ReplayResult, settings: Settings) -> OutcomeReport:
    loop = settings.loop
    overdue: dict[str, int] = defaultdict(int)
    for alert in result.alerts:
        if alert.data.signal == "follow_up_overdue":
            overdue[str(alert.data.evidence.get("overdue_tier", ""))] += 1
    return OutcomeReport(rows=_rows(result.outcomes, loop.min_group),
                         responses=_responses(result.responses, overdue),
                         saved_by_month=_saved(result.outcomes), closed=len(result.outcomes),
                         attribution_days=loop.attribution_days, min_group=loop.min_group,
                         currency=loop.currency)


def _rows(closed: Iterable[AlertOutcome], min_group: int) -> list[Row]:
    groups: dict[tuple[str, str, str], tuple[Group, Group]] = defaultdict(
        lambda: (Group(), Group()))
    for o in closed:
        signal, tier = str(SIGNAL_NAMES[o.signal]), str(TIERS[o.tier])
        keys = [(signal, ALL, ALL), (signal, tier, ALL)]
        if not o.held_out and o.action is not None:
            keys.append((signal, tier, o.action))
        for key in keys:
            groups[key][1 if o.held_out else 0].add(o.won, o.revenue, o.cost, o.customer)
    rows = []
    for (signal, tier, action), (treated, _) in sorted(groups.items(), key=_order):
        held = groups[(signal, tier, ALL)][1]
        enough = treated.n >= min_group and held.n >= min_group
        if action != ALL and not enough:
            continue  # action rows only where they can say something
        rows.append(Row(signal, tier, action, treated, held, enough,
                        uplift(treated, held) if enough else None))
    return rows


def _order(item: tuple[tuple[str, str, str], Any]) -> tuple[int, int, str]:
    signal, tier, action = item[0]
    return (SIGNAL_NAMES.index(signal), -1 if tier == ALL else TIERS.index(tier),
            "" if action == ALL else action)


def _responses(responses: Iterable[Response], overdue: Mapping[str, int]
               ) -> list[TierResponse]:
    hours: dict[int, list[float]] = defaultdict(list)
    late: dict[int, int] = defaultdict(int)
    for r in responses:
        hours[r.tier].append(r.seconds / 3600)
        late[r.tier] += r.late
    out = []
    for rank, tier in enumerate(TIERS):
        h = tuple(sorted(hours[rank]))
        out.append(TierResponse(tier, RESPOND_HOURS[tier], len(h), late[rank],
                                overdue.get(tier, 0), h))
    return out


_Pair = tuple[Group, Group]
"""(treated, held out)"""


def _saved(closed: Iterable[AlertOutcome]) -> list[Saved]:
    """Month by month: that month's incremental revenue, and every month's so far pooled
    with its interval."""
    by: dict[str, dict[int, list[AlertOutcome]]] = defaultdict(lambda: defaultdict(list))
    for o in closed:
        by[datetime.fromtimestamp(o.alerted_at, UTC).strftime("%Y-%m")][o.signal].append(o)
    so_far: dict[int, _Pair] = defaultdict(lambda: (Group(), Group()))
    out = []
    for month, signals in sorted(by.items()):
        alone: dict[int, _Pair] = defaultdict(lambda: (Group(), Group()))
        for signal, closed_then in signals.items():
            for o in closed_then:
                for groups in (alone[signal], so_far[signal]):
                    groups[1 if o.held_out else 0].add(o.won, o.revenue, cluster=o.customer)
        total, var = _incremental(so_far.values())
        half = Z95 * var ** 0.5
        out.append(Saved(month, _incremental(alone.values())[0], total,
                         (total - half, total + half)))
    return out


def _incremental(groups: Iterable[_Pair]) -> tuple[float, float]:
    """(treated alerts times the difference in mean revenue per alert, summed over the
    signals with alerts in both groups; its variance)."""
    total = var = 0.0
    for treated, held in groups:
        if treated.n and held.n:
            total += treated.n * (treated.revenue_mean - held.revenue_mean)
            var += treated.n ** 2 * (treated.revenue_mean_var() + held.revenue_mean_var())
    return total, var


@dataclass(frozen=True)
class Verdict:
    """What to do about one signal's alerts, as strong as its intervals allow and no
    stronger: keep only when the win-back and the revenue per alert are both above zero
    with 95 % confidence, stop only when either is below."""

    signal: str
    decision: str  # keep, keep if it pays, stop, no effect shown, not enough data
    why: str

    def to_json(self) -> dict[str, str]:
        return {"signal": self.signal, "decision": self.decision, "why": self.why}


def verdicts(r: OutcomeReport) -> list[Verdict]:
    """One per signal with closed alerts, from its row over all tiers and actions."""
    out = []
    for row in (row for row in r.rows if row.tier == ALL and row.action == ALL):
        u = row.uplift
        if u is None:
            out.append(Verdict(row.signal, "not enough data", (
                f"{row.treated.n} treated and {row.held_out.n} held-out alerts; "
                f"{r.min_group} of each are needed")))
            continue
        (low, high), (rlow, rhigh) = u.interval, u.revenue_interval
        figures = (f"{u.difference * 100:+.1f} points won back ({low * 100:+.1f} to "
                   f"{high * 100:+.1f}), {r.money(u.revenue_per_alert)} revenue per alert "
                   f"({r.money(rlow)} to {r.money(rhigh)})")
        if low > 0 and rlow > 0:
            decision = "keep"
        elif high < 0 or rhigh < 0:
            decision = "stop"
        elif low > 0:
            decision, figures = "keep if it pays", figures + ": revenue not shown above zero"
        else:
            decision, figures = "no effect shown", figures + ": change the play or stop it"
        out.append(Verdict(row.signal, decision, figures))
    return out


def render(r: OutcomeReport) -> str:
    """The report as a table for a terminal, the verdicts first."""
    lines = ["What to do (95 % intervals in parentheses):"]
    lines += [f"  {v.signal:<20} {v.decision:<16} {v.why}" for v in verdicts(r)]
    lines += ["", f"Outcomes of {r.closed:,} alerts whose {r.attribution_days:g}-day attribution "
             "window closed (won back = bought again within it; treated vs held out)", "",
             f"{'signal':<20} {'tier':<9} {'action':<13} {'treated':>17} {'held out':>17} "
             f"{'uplift [95% interval]':>27} {'p':>7} {'+rev/alert':>10} [95% interval]"
             + (f" ({r.currency})" if r.currency else "")]
    for row in r.rows:
        t, h = row.treated, row.held_out
        head = f"{row.signal:<20} {row.tier:<9} {row.action[:13]:<13} "
        groups = f"{_rate(t):>17} {_rate(h):>17} "
        if row.uplift is None:
            lines.append(head + groups + f"{'not enough data':>27}")
            continue
        u = row.uplift
        lines.append(head + groups + f"{u.difference:+7.1%} [{u.interval[0]:+6.1%}, "
                     f"{u.interval[1]:+6.1%}] {p_value(u.p_value):>7} "
                     f"{u.revenue_per_alert:10.2f} [{u.revenue_interval[0]:+.2f}, "
                     f"{u.revenue_interval[1]:+.2f}]")
    lines += ["", "Response to treated alerts (event time from alert to first action; late: "
              "answered after the tier's window, overdue: no answer when it passed):"]
    for tr in r.responses:
        if not tr.answered and not tr.overdue:
            continue
        lines.append(f"  {tr.tier:<9} window {tr.window_hours:>2} h: {tr.answered} answered, "
                     f"median {tr.median_hours} h, p90 {tr.percentile(0.9)} h, {tr.late} late, "
                     f"{tr.overdue} overdue")
    held = any(row.held_out.n for row in r.rows)
    last = r.saved_by_month[-1] if r.saved_by_month else None
    lines += ["", "Incremental revenue of treated alerts (vs held out): " + (
        f"{r.money(last.cumulative)} (95 % interval {r.money(last.interval[0])} to "
        f"{r.money(last.interval[1])})" if held and last
        else "not measurable, no alert was held out")]
    return "\n".join(lines)


def p_value(p: float) -> str:
    """Three decimals, and "< 0.001" below that: a p of 0.000 reads as impossible."""
    return "< 0.001" if p < 0.0005 else f"{p:.3f}"


def _rate(g: Group) -> str:
    return f"{g.won}/{g.n} {g.rate:5.1%}" if g.n else "0"


def _r(value: float) -> float:
    return round(value, 6)
