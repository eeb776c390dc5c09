"""``churnwatch evaluate``: how well the risk predicts "no purchase in the horizon".

Honest by construction: the log is photographed at ``cutoff - training horizon`` and at
the cutoff, the models are fitted from those photos only (:mod:`churnwatch.analysis.fit`), and the
outcome is read from a third photo at ``cutoff + horizon``. Baselines are scored in the
same run on the same customers: days since the last purchase, and the MBG/NBD forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from churnwatch.analysis.fit import Plan, fit_models
from churnwatch.analysis.snapshots import snapshots, time_span
from churnwatch.engine import Scorer
from churnwatch.models.calibration import auc
from churnwatch.models.clv import WEEK, expected_purchases, p_no_purchase
from churnwatch.models.params import ModelDoc
from churnwatch.settings import Settings

Array = npt.NDArray[np.float64]
BOOTSTRAP = 1000


@dataclass(frozen=True)
class Ranking:
    """One score's results: AUC and precision/recall when it flags ``flagged`` customers."""

    name: str
    auc: float
    flagged: int
    precision: float
    recall: float


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    customers: int
    predicted: float
    observed: float


@dataclass(frozen=True)
class Report:
    log: str
    cutoff: float
    horizon_weeks: float
    train_weeks: float
    customers: int
    churn_rate: float
    threshold: float
    rankings: list[Ranking]
    gain: tuple[float, float, float]  # AUC of risk minus the best baseline: estimate, 95 % CI
    brier: float
    mean_risk: float
    mbgnbd_no_purchase: float  # the population model's own mean P(no purchase in the horizon)
    reliability: list[Bin]
    ece: float  # expected calibration error over the 10 reliability bins
    ece_by_chance: tuple[float, float]  # a perfectly calibrated score's ECE: mean, 95th pct
    alerted_churners: float  # share of churners with a rule alert open at the cutoff
    weeks_alert_before_cutoff: float | None  # median, over alerted churners
    weeks_purchase_to_alert: float | None  # median: last purchase to first alert
    model: ModelDoc


def _flag_top(score: Array, k: int) -> Array:
    """The ``k`` highest scores, ties broken by position (deterministic)."""
    flags = np.zeros(len(score))
    flags[np.argsort(-score, kind="stable")[:k]] = 1.0
    return flags


def _ranking(name: str, score: Array, flags: Array, churned: Array) -> Ranking:
    hit = float((flags * churned).sum())
    n = int(flags.sum())
    return Ranking(name, auc(score, churned), n, hit / n if n else 0.0,
                   hit / float(churned.sum()) if churned.sum() else 0.0)


def _gain(risk: Array, baseline: Array, churned: Array) -> tuple[float, float, float]:
    """Paired bootstrap of the AUC difference over customers (seeded: same log, same CI)."""
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, len(churned), len(churned))
        diffs.append(auc(risk[pick], churned[pick]) - auc(baseline[pick], churned[pick]))
    low, high = np.nanpercentile(diffs, [2.5, 97.5])
    return auc(risk, churned) - auc(baseline, churned), float(low), float(high)


def _reliability(risk: Array, churned: Array) -> list[Bin]:
    bins = []
    for k in range(10):
        low, high = k / 10, (k + 1) / 10
        inside = (risk >= low) & ((risk < high) if k < 9 else (risk <= high))
        if inside.any():
            bins.append(Bin(low, high, int(inside.sum()), float(risk[inside].mean()),
                            float(churned[inside].mean())))
    return bins


def _ece(bins: list[Bin], customers: int) -> float:
    """Expected calibration error: the customer-weighted mean |predicted - observed|."""
    return sum(b.customers * abs(b.predicted - b.observed) for b in bins) / max(1, customers)


def _ece_by_chance(risk: Array, draws: int = 200) -> tuple[float, float]:
    """The ECE a perfectly calibrated score shows on these customers by chance alone
    (outcomes drawn from the scores themselves, seeded): mean and 95th percentile. With a
    few thousand customers it is not 0, so an ECE inside it is noise, not a bias."""
    rng = np.random.default_rng(1)
    eces = [_ece(_reliability(risk, (rng.random(len(risk)) < risk).astype(float)), len(risk))
            for _ in range(draws)]
    return float(np.mean(eces)), float(np.percentile(eces, 95))


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def evaluate(log: Path, settings: Settings, cutoff: float, horizon_weeks: float,
             threshold: float) -> Report:
    first, last = time_span(log)
    if last < cutoff + horizon_weeks * WEEK - 86_400:
        raise ValueError("the log ends before cutoff + horizon: the outcome would be unknown")
    plan = Plan.within(first, cutoff, horizon_weeks)
    earlier, at_cutoff, outcome = snapshots(
        log, settings, [plan.train_at, cutoff, cutoff + horizon_weeks * WEEK])
    doc = fit_models(earlier, at_cutoff, plan, horizon_weeks, log.name,
                     settings.detection.window_days)
    scorer = Scorer(doc)

    ids = sorted(at_cutoff)
    photos = [at_cutoff[c] for c in ids]
    churned = np.array([float(outcome[c].last_order < cutoff) for c in ids])
    risk = np.array([scorer.risk.score(scorer.values(p.customer)) for p in photos])
    recency = np.array([cutoff - p.last_order for p in photos])  # exact: ties stay ties
    forecast = np.array([-expected_purchases(p.customer.history, horizon_weeks, scorer.mbg)
                         for p in photos])
    alerted = np.array([float(p.alerted_since > 0) for p in photos])

    flags = (risk >= threshold).astype(float)
    k = int(flags.sum())
    rankings = [
        _ranking("risk (churnwatch)", risk, flags, churned),
        _ranking("days since last purchase", recency, _flag_top(recency, k), churned),
        _ranking("MBG/NBD -E[purchases]", forecast, _flag_top(forecast, k), churned),
        _ranking("rule alert open", alerted, alerted, churned),
    ]
    best = recency if rankings[1].auc >= rankings[2].auc else forecast
    alerted_churners = [p for p, c in zip(photos, churned, strict=True) if c and p.alerted_since]
    reliability = _reliability(risk, churned)
    return Report(
        log=log.name, cutoff=cutoff, horizon_weeks=horizon_weeks,
        train_weeks=plan.train_weeks, customers=len(ids), churn_rate=float(churned.mean()),
        threshold=threshold, rankings=rankings, gain=_gain(risk, best, churned),
        brier=float(np.mean((risk - churned) ** 2)), mean_risk=float(risk.mean()),
        mbgnbd_no_purchase=float(np.mean([p_no_purchase(p.customer.history, horizon_weeks,
                                                        scorer.mbg) for p in photos])),
        reliability=reliability, ece=_ece(reliability, len(ids)),
        ece_by_chance=_ece_by_chance(risk),
        alerted_churners=len(alerted_churners) / max(1.0, float(churned.sum())),
        weeks_alert_before_cutoff=_median(
            [(cutoff - p.alerted_since) / WEEK for p in alerted_churners]),
        weeks_purchase_to_alert=_median(
            [(p.alerted_since - p.last_order) / WEEK for p in alerted_churners]),
        model=doc,
    )


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _weeks(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render(r: Report) -> str:
    """The report as a fixed-width table (Markdown-compatible)."""
    lines = [
        f"log {r.log}: events before {_day(r.cutoff)} seen, horizon {r.horizon_weeks:g} weeks, "
        f"{r.customers} customers, {r.churn_rate:.1%} made no purchase in the horizon",
        f"models fitted on events before the cutoff only (version {r.model.version}); "
        f"risk trained on a {r.train_weeks:.1f}-week horizon ending at the cutoff",
        "",
        "| score | AUC | flagged | precision | recall |",
        "|---|---|---|---|---|",
    ]
    for k in r.rankings:
        lines.append(f"| {k.name} | {k.auc:.4f} | {k.flagged} | {k.precision:.3f} "
                     f"| {k.recall:.3f} |")
    gain, low, high = r.gain
    lines += [
        "",
        f"risk flags at risk >= {r.threshold:g}; each baseline flags as many customers, "
        f"its highest scores. AUC gain over the best baseline: {gain:+.4f} "
        f"(95 % bootstrap CI {low:+.4f} to {high:+.4f})",
        f"lead time: {r.alerted_churners:.1%} of churners had a rule alert open at the cutoff; "
        f"median {_weeks(r.weeks_alert_before_cutoff)} weeks before the cutoff, "
        f"{_weeks(r.weeks_purchase_to_alert)} weeks after their last purchase",
        "",
        f"calibration (Brier {r.brier:.4f}; ECE {r.ece:.3f}, a perfectly calibrated score "
        f"would show {r.ece_by_chance[0]:.3f} by chance here, 95 % below "
        f"{r.ece_by_chance[1]:.3f}; mean risk {r.mean_risk:.3f} "
        f"against {r.churn_rate:.3f} observed, {r.mean_risk - r.churn_rate:+.3f}; MBG/NBD "
        f"mean P(no purchase) {r.mbgnbd_no_purchase:.3f}; risk trained on a "
        f"{r.train_weeks:.1f}-week horizon"
        + ("" if r.train_weeks >= r.horizon_weeks else
           f", extrapolated to {r.horizon_weeks:g} weeks") + "):",
        "",
        "| risk | customers | mean risk | observed churn |",
        "|---|---|---|---|",
    ]
    for b in r.reliability:
        lines.append(f"| {b.low:.1f}-{b.high:.1f} | {b.customers} | {b.predicted:.3f} "
                     f"| {b.observed:.3f} |")
    return "\n".join(lines) + "\n"
