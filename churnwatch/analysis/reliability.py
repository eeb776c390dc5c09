"""Is the risk still true? ``churnwatch calibration LOG``: every risk the alerts of a replay
published, settled by what the customer did within its horizon (models/calibration.py),
as reliability figures per horizon and per month of prediction, and a verdict a marketer
can read.

The verdict looks at the newest months first: the longest run of them in which the risk
erred the same way, pooled, and says how far it is off only when that is beyond what a
well-calibrated risk shows by chance (two standard errors of the churned count, which
under calibration is a sum of Bernoulli draws with the predicted risks).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from churnwatch.models import calibration
from churnwatch.models.calibration import BINS, Figures, Settled


@dataclass(frozen=True)
class Month:
    month: str  # "2024-03": when the predictions were made
    figures: Figures


@dataclass(frozen=True)
class Horizon:
    horizon_days: float
    overall: Figures
    bins: list[Figures]  # one per risk decile
    months: list[Month]
    verdict: str

    def to_json(self) -> dict[str, Any]:
        return {"horizon_days": self.horizon_days, "verdict": self.verdict,
                **self.overall.to_json(),
                "bins": [{"from": b / BINS, "to": (b + 1) / BINS, **f.to_json()}
                         for b, f in enumerate(self.bins)],
                "months": [{"month": m.month, **m.figures.to_json()} for m in self.months]}


@dataclass(frozen=True)
class CalibrationReport:
    model: str  # the risk model's version
    horizons: list[Horizon]
    untracked: int  # risks published while their customer had the most open

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "untracked": self.untracked,
                "horizons": [h.to_json() for h in self.horizons]}


def report(settled: Sequence[Settled], model: str, untracked: int = 0) -> CalibrationReport:
    by_horizon: dict[float, list[Settled]] = defaultdict(list)
    for s in settled:
        by_horizon[s.horizon_days].append(s)
    return CalibrationReport(model, [_horizon(days, by_horizon[days])
                                     for days in sorted(by_horizon)], untracked)


def _horizon(days: float, settled: list[Settled]) -> Horizon:
    by_bin: list[list[Settled]] = [[] for _ in range(BINS)]
    by_month: dict[str, list[Settled]] = defaultdict(list)
    for s in settled:
        by_bin[calibration.bin_of(s.risk_ppm)].append(s)
        by_month[_month(s.made_at)].append(s)
    months = [Month(m, calibration.of(by_month[m])) for m in sorted(by_month)]
    return Horizon(days, calibration.of(settled), [calibration.of(b) for b in by_bin],
                   months, verdict(days, months, by_month))


def _month(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m")


def verdict(days: float, months: Sequence[Month], settled: dict[str, list[Settled]]) -> str:
    """One sentence, never stronger than chance allows (see the module's docstring)."""
    if not months:
        return f"no {days:g}-day horizon has closed yet: nothing to judge the risk by"
    sign = _sign(months[-1].figures)
    run = 0
    while run < len(months) and _sign(months[-1 - run].figures) == sign:
        run += 1
    recent = months[len(months) - run:]
    pooled = [s for m in recent for s in settled[m.month]]
    every = [s for m in months for s in settled[m.month]]
    candidates = [(pooled, recent[0].month)]
    if run < len(months):
        candidates.append((every, months[0].month))
    for group, since in candidates:
        gap, se = _gap(group)
        if abs(gap) > 2 * se:
            way = "overstates" if gap > 0 else "understates"
            return (f"risk {way} churn by {abs(gap) * 100:.0f} points since "
                    f"{_month_name(since)} ({len(group):,} predictions settled: "
                    f"{_mean(group):.0%} predicted, {_churned(group):.0%} churned; chance "
                    f"alone: within {2 * se * 100:.1f} points)")
    gap, se = _gap(every)
    return (f"risk agrees with what customers did: {_mean(every):.0%} predicted, "
            f"{_churned(every):.0%} churned over {len(every):,} settled predictions "
            f"(within chance: {2 * se * 100:.1f} points)")


def _sign(f: Figures) -> int:
    return (f.mean_predicted > f.observed) - (f.mean_predicted < f.observed)


def _gap(group: Sequence[Settled]) -> tuple[float, float]:
    """Mean predicted minus churn rate, and its standard error if the risk were true."""
    n = len(group)
    variance = sum(s.risk * (1 - s.risk) for s in group)
    return _mean(group) - _churned(group), math.sqrt(variance) / n


def _mean(group: Sequence[Settled]) -> float:
    return sum(s.risk for s in group) / len(group)


def _churned(group: Sequence[Settled]) -> float:
    return sum(s.churned for s in group) / len(group)


def _month_name(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")


def render(r: CalibrationReport) -> str:
    """The text report: per horizon, the verdict, the figures, the reliability bins and
    the months."""
    lines = [f"Is the risk still true? (risk model {r.model})"]
    if not r.horizons:
        lines.append("no risk published by an alert has reached the end of its horizon")
    for h in r.horizons:
        o = h.overall
        lines += ["", f"{h.horizon_days:g}-day horizon: {h.verdict}",
                  f"  {o.predictions:,} predictions settled, {o.churned:,} churned; "
                  f"mean predicted {o.mean_predicted:.3f}, observed {o.observed:.3f}; "
                  f"ECE {o.ece:.3f}, Brier {o.brier:.4f}, AUC {_auc(o)}",
                  "  risk bin      settled  predicted  observed"]
        lines += [f"  {b / BINS:.1f}-{(b + 1) / BINS:.1f}  {f.predictions:>10,}  "
                  f"{f.mean_predicted:>9.3f}  {f.observed:>8.3f}"
                  for b, f in enumerate(h.bins) if f.predictions]
        lines.append("  made in   settled  predicted  observed    ECE")
        lines += [f"  {m.month}  {m.figures.predictions:>8,}  {m.figures.mean_predicted:>9.3f}"
                  f"  {m.figures.observed:>8.3f}  {m.figures.ece:.3f}" for m in h.months]
    if r.untracked:
        lines += ["", f"{r.untracked:,} risks were published while their customer already "
                  f"had {calibration.MAX_OPEN} open: not followed"]
    return "\n".join(lines)


def _auc(f: Figures) -> str:
    return "n/a" if f.auc is None else f"{f.auc:.3f}"
