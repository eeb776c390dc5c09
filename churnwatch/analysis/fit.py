"""``churnwatch fit``: the population models and the risk score, fitted to one log.

It also keeps the population statistics of the log's end, for classifying against a
fixed population (``detection.population.mode = fitted``).

The log is photographed twice: at its end (``as_of``), to fit MBG/NBD and Gamma-Gamma on
everything known, and one training horizon earlier, where the risk score learns which
features told who would not buy again by the end. The training horizon is the requested
horizon, or half the log's span when the log is shorter than two horizons; then the
intercept is moved by the MBG/NBD's own difference between the two horizons, so the risk
stays calibrated for the horizon asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from churnwatch.analysis.snapshots import Snapshot, snapshots, time_span
from churnwatch.models.alert import rfc3339
from churnwatch.models.clv import WEEK, MbgNbdParams, p_no_purchase
from churnwatch.models.estimation import Histories, fit_gamma_gamma, fit_mbgnbd
from churnwatch.models.params import (
    GammaGammaDoc,
    MbgNbdDoc,
    ModelDoc,
    PopulationDoc,
    Provenance,
    RiskDoc,
)
from churnwatch.models.population import Population
from churnwatch.models.risk import raw_values, train
from churnwatch.settings import Settings


@dataclass(frozen=True)
class Plan:
    """Where the photos are taken: training features at ``train_at``, outcomes at ``end``."""

    end: float
    train_weeks: float

    @property
    def train_at(self) -> float:
        return self.end - self.train_weeks * WEEK

    @classmethod
    def within(cls, first: float, end: float, horizon_weeks: float) -> Plan:
        span = (end - first) / WEEK
        return cls(end, min(horizon_weeks, span / 2))


def _histories(snap: Snapshot) -> Histories:
    hs = [p.customer.history for p in snap.values()]
    return Histories(np.array([h.x for h in hs], dtype=float),
                     np.array([h.t_x for h in hs]), np.array([h.age for h in hs]))


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def fit_models(earlier: Snapshot, end: Snapshot, plan: Plan, horizon_weeks: float,
               source: str, window_days: float) -> ModelDoc:
    """Fit everything from two photos of the same log (see the module docstring)."""
    mbg, mbg_fit = fit_mbgnbd(_histories(end))
    photos = list(end.values())
    n = np.array([p.customer.history.x + 1 for p in photos], dtype=float)
    mean_value = np.array([p.customer.mean_value for p in photos])
    repeat = n > 1  # Gamma-Gamma is fitted on repeat buyers, as in Fader & Hardie (2013)
    gg, gg_fit = fit_gamma_gamma(n[repeat], mean_value[repeat])

    ids = sorted(earlier)
    values = np.array([raw_values(earlier[c].customer, plan.train_weeks, mbg, gg) for c in ids])
    churned = np.array([float(end[c].last_order < plan.train_at) for c in ids])
    risk = train(values, churned, plan.train_weeks)
    shift = _horizon_shift(end, mbg, plan.train_weeks, horizon_weeks)
    return ModelDoc(
        fitted=Provenance(log=source, as_of=_time(plan.end), train_cutoff=_time(plan.train_at)),
        mbgnbd=MbgNbdDoc(r=mbg.r, alpha=mbg.alpha, a=mbg.a, b=mbg.b,
                         log_likelihood=mbg_fit.log_likelihood, customers=mbg_fit.customers),
        gamma_gamma=GammaGammaDoc(p=gg.p, q=gg.q, gamma=gg.gamma,
                                  log_likelihood=gg_fit.log_likelihood,
                                  customers=gg_fit.customers),
        risk=RiskDoc(horizon_weeks=horizon_weeks, feature_weeks=plan.train_weeks,
                     names=risk.names, center=risk.center, scale=risk.scale,
                     weights=risk.weights, intercept=risk.intercept + shift,
                     customers=len(ids), churn_rate=float(churned.mean())),
        population=_population(end.population, window_days),
    ).seal()


def _population(pop: Population, window_days: float) -> PopulationDoc:
    return PopulationDoc(window_days=window_days, customers=pop.n,
                         sums=(pop.sum_last, pop.sum_f, pop.sum_m), bins=pop.sparse())


def _horizon_shift(end: Snapshot, mbg: MbgNbdParams, trained: float, wanted: float) -> float:
    """How much the MBG/NBD's population log-odds of no purchase grow from the trained
    horizon to the wanted one."""
    if trained == wanted:
        return 0.0
    hs = [p.customer.history for p in end.values()]
    at_trained = float(np.mean([p_no_purchase(h, trained, mbg) for h in hs]))
    at_wanted = float(np.mean([p_no_purchase(h, wanted, mbg) for h in hs]))
    return _logit(at_wanted) - _logit(at_trained)


def _time(ts: float) -> str:
    return rfc3339(datetime.fromtimestamp(ts, UTC))


def fit_log(log: Path, settings: Settings, horizon_weeks: float,
            as_of: float | None = None) -> ModelDoc:
    first, last = time_span(log)
    plan = Plan.within(first, as_of if as_of is not None else last + 1, horizon_weeks)
    earlier, end = snapshots(log, settings, [plan.train_at, plan.end])
    return fit_models(earlier, end, plan, horizon_weeks, log.name,
                      settings.detection.window_days)

