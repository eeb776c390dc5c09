"""Is the risk still true? Every risk an alert publishes is a prediction, "no purchase
within the horizon", that the customer's own events settle.

The prediction waits in its customer's state (``CustomerState.predictions``) until event
time passes its horizon's end; a placed order after it and within the horizon marks it
"bought", and at the end it settles as bought or "churned". Settled at the end, never
earlier: a purchase is known sooner than its absence, and counting those first would
make every recent figure look as if nobody churned (measured on CDNOW: the newest
months' churn read 0 %). Settled predictions add into counts per risk bin
(:class:`Calibration`), which add up across workers and months, and from which the
reliability figures follow: ECE, Brier score, mean predicted against observed.

Like the rest of the state this runs on event time in the customer's item order, so a
replay and the workers settle the same predictions. Risks are kept in parts per million
(the alert shows four decimals, so nothing is lost) and summed as integers: the counts of
any grouping of the same predictions are equal, not only close.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

# scipy.stats and scipy.optimize are imported in the functions that fit and report: at
# the top they took 1.0 of the 1.8 s every replay, worker and test subprocess spent on
# imports (``python -X importtime``), and the per-event functions here need neither.

BINS = 10
"""Deciles of risk: bin ``b`` holds risks in ``[b/10, (b+1)/10)``, the last one 1.0 too."""
MAX_OPEN = 4
"""Open predictions kept per customer; a risk published while four wait is not followed
(counted as ``untracked``): a handful per customer bounds the state (17 bytes each)."""
PPM = 1_000_000
DAY = 86_400

# positions in an open prediction (a list: states are positional msgpack)
MADE, DUE, RISK, BOUGHT = range(4)


def bin_of(risk_ppm: int) -> int:
    return min(BINS - 1, risk_ppm * BINS // PPM)


def bin_label(b: int) -> str:
    """A bin's lower edge as a Prometheus label value ("0.0" .. "0.9")."""
    return f"{b / BINS:.1f}"


@dataclass(frozen=True, slots=True)
class Settled:
    """One prediction whose horizon closed. No customer id: these feed metrics."""

    horizon_days: float
    made_at: int
    risk_ppm: int
    churned: bool

    @property
    def risk(self) -> float:
        return self.risk_ppm / PPM


def predict(predictions: list[list[int]], now: int, horizon_seconds: int, risk: float
            ) -> bool:
    """Follow a published ``risk`` from ``now``; False if the customer already has
    :data:`MAX_OPEN` open (then it is not followed)."""
    if len(predictions) >= MAX_OPEN:
        return False
    entry = [now, now + horizon_seconds, round(risk * PPM), 0]
    if predictions and predictions[-1][DUE] > entry[DUE]:  # a shorter horizon than before
        insort(predictions, entry, key=lambda p: p[DUE])
    else:
        predictions.append(entry)
    return True


def bought(predictions: list[list[int]], t: int) -> None:
    """A placed order at ``t``: every prediction made before it whose horizon it falls
    within was wrong about this customer, whatever follows."""
    for p in predictions:
        if p[MADE] < t <= p[DUE]:
            p[BOUGHT] = 1


def due(predictions: Sequence[Sequence[int]]) -> int:
    """When event time must next pass a horizon's end; 0 if nothing is open. Kept in
    order of their ends (:func:`predict`): the first's."""
    return predictions[0][DUE] if predictions else 0


def ended(predictions: list[list[int]], now: float) -> list[Settled]:
    """Predictions whose horizon ended by ``now``, settled and taken out. The caller runs
    this only once every order up to ``now`` is applied."""
    n = 0
    while n < len(predictions) and predictions[n][DUE] <= now:
        n += 1
    done = predictions[:n]
    del predictions[:n]
    return [Settled(round((p[DUE] - p[MADE]) / DAY, 4), p[MADE], p[RISK],
                    churned=not p[BOUGHT]) for p in done]


@dataclass
class Bin:
    """Settled predictions in one risk bin: how many, how many churned, the sum of their
    risks (ppm) and of their squared errors (ppm squared), all exact integers."""

    n: int = 0
    churned: int = 0
    risk_ppm: int = 0
    squared_ppm2: int = 0

    def add(self, s: Settled) -> None:
        self.n += 1
        self.churned += s.churned
        self.risk_ppm += s.risk_ppm
        self.squared_ppm2 += (s.risk_ppm - PPM * s.churned) ** 2


@dataclass(frozen=True)
class Figures:
    """Reliability of one horizon's settled predictions. ``auc`` is None from counts alone
    (binned) or when one outcome is missing."""

    predictions: int
    churned: int
    mean_predicted: float
    observed: float
    ece: float
    brier: float
    auc: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"predictions": self.predictions, "churned": self.churned,
                "mean_predicted": round(self.mean_predicted, 6),
                "observed": round(self.observed, 6), "ece": round(self.ece, 6),
                "brier": round(self.brier, 6),
                "auc": None if self.auc is None else round(self.auc, 6)}


@dataclass
class Calibration:
    """Counts per horizon (days) and risk bin: what the worker's counters hold, summed."""

    bins: dict[float, list[Bin]] = field(default_factory=dict)

    def add(self, settled: Iterable[Settled]) -> None:
        for s in settled:
            row = self.bins.get(s.horizon_days)
            if row is None:
                row = self.bins[s.horizon_days] = [Bin() for _ in range(BINS)]
            row[bin_of(s.risk_ppm)].add(s)


def figures(row: Sequence[Bin], auc: float | None = None) -> Figures:
    """ECE: the share-weighted gap between mean risk and churn rate over the bins;
    Brier: the mean squared error of the risk against the outcome."""
    n = sum(b.n for b in row)
    if not n:
        return Figures(0, 0, 0.0, 0.0, 0.0, 0.0, auc)
    churned = sum(b.churned for b in row)
    gap = sum(abs(b.risk_ppm - PPM * b.churned) for b in row)
    return Figures(n, churned, sum(b.risk_ppm for b in row) / PPM / n, churned / n,
                   gap / PPM / n, sum(b.squared_ppm2 for b in row) / PPM**2 / n, auc)


def auc(score: npt.NDArray[np.float64], positive: npt.NDArray[np.float64]) -> float:
    """Area under the ROC curve (Mann-Whitney; ties count one half)."""
    from scipy.stats import rankdata  # not at the top: see the imports

    ranks = rankdata(score)
    n_pos = float(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[positive == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def ranking(settled: Sequence[Settled]) -> float | None:
    """The :func:`auc` of settled risks against churn: the ranking quality, which a
    monotone recalibration leaves alone; None when one outcome is missing."""
    found = auc(np.array([s.risk_ppm for s in settled], dtype=float),
                np.array([float(s.churned) for s in settled]))
    return None if math.isnan(found) else found


def platt(settled: Sequence[Settled]) -> tuple[float, float]:
    """(slope, offset) of the logistic map of a risk's log-odds that fits these outcomes
    best (maximum likelihood): Platt scaling, monotone, so the AUC stays."""
    p = np.clip(np.array([s.risk for s in settled]), 1e-6, 1 - 1e-6)
    z = np.log(p / (1 - p))
    y = np.array([float(s.churned) for s in settled])

    def loss(w: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        t = w[0] * z + w[1]
        error = 1.0 / (1.0 + np.exp(-t)) - y
        return float(np.sum(np.logaddexp(0.0, t) - y * t)), np.array(
            [float(error @ z), float(error.sum())])

    from scipy.optimize import minimize  # not at the top: see the imports

    slope, offset = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B",
                             bounds=[(1e-3, None), (None, None)]).x
    return float(slope), float(offset)


def of(settled: Sequence[Settled]) -> Figures:
    """The figures of a list of settled predictions of one horizon, AUC included."""
    calibration = Calibration()
    calibration.add(settled)
    row = next(iter(calibration.bins.values()), [])
    return figures(row, ranking(settled))
