"""The churn risk: P(no purchase within the horizon), one explainable logistic score.

It combines the MBG/NBD forecast with RFM features and the rule signals a customer has
open. Logistic regression because each feature's contribution to the log-odds is a number
an alert can show ("31 weeks since the last purchase: +0.62"), because it stays calibrated
when trained on the shop's own history, and because scoring is a dozen multiplications.
On CDNOW a gradient-boosted model ranked no better in cross-validation (BENCHMARKS.md).

Features are standardised against the training customers, so a contribution reads as
"compared with the average customer". The customer's age is deliberately not a feature:
the score is trained one horizon before it is used, so every customer is older when
scored than any was when trained, and the weight of age would be extrapolated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from churnwatch.models.clv import (
    GammaGammaParams,
    History,
    MbgNbdParams,
    expected_purchases,
    expected_spend,
)
from churnwatch.models.vocabulary import WARNING_SIGNALS

SIGNAL_FEATURES = WARNING_SIGNALS
FEATURES = ("forecast", "recency", "frequency", "order_value",
            *(f"signal.{name}" for name in SIGNAL_FEATURES))

DESCRIBE = {
    "forecast": "MBG/NBD forecast purchases in the horizon",
    "recency": "weeks since the last purchase",
    "frequency": "repeat purchases",
    "order_value": "expected order value",
}


@dataclass(frozen=True, slots=True)
class Customer:
    """What the risk reads of a customer at one moment."""

    history: History
    mean_value: float  # mean order value so far
    open_signals: frozenset[str]  # rule signals alerted since the last purchase


def raw_values(c: Customer, weeks: float, m: MbgNbdParams, g: GammaGammaParams) -> list[float]:
    """The features before standardisation, in :data:`FEATURES` order."""
    h = c.history
    return features(c, expected_purchases(h, weeks, m), expected_spend(h.x + 1, c.mean_value, g))


def features(c: Customer, forecast: float, order_value: float) -> list[float]:
    """:func:`raw_values` from the two model outputs it needs, for a caller that has them
    already (scoring needs both again for the value at risk)."""
    h = c.history
    return [
        math.log(max(forecast, 1e-4)),
        math.log1p(h.age - h.t_x),
        math.log1p(h.x),
        math.log1p(order_value),
        *(1.0 if name in c.open_signals else 0.0 for name in SIGNAL_FEATURES),
    ]


def readable(name: str, value: float) -> str:
    """The raw feature value as a person reads it (undoing the log transforms)."""
    if name.startswith("signal."):
        signal = name.removeprefix("signal.")
        return f"{signal} alert open" if value else f"no {signal} alert open"
    return f"{DESCRIBE[name]}: {_shown(name, value)}"


def _shown(name: str, value: float) -> str:
    if name == "forecast":
        return f"{math.exp(value):.2f}"
    return f"{math.expm1(value):.1f}"


@dataclass(frozen=True)
class RiskModel:
    """Logistic weights over standardised features, plus the horizon it predicts.

    ``feature_weeks`` is the horizon of the forecast feature as trained; ``horizon_weeks``
    the horizon the risk is about. They differ when the history was too short to train on
    the full horizon, and the intercept then carries the model's shift between the two."""

    horizon_weeks: float
    feature_weeks: float
    names: tuple[str, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    slope: float = 1.0
    offset: float = 0.0
    """A recalibration (``churnwatch fit --recalibrate``): the log-odds become
    ``slope * z + offset``, a monotone map that keeps the ranking and moves the level."""

    def log_odds(self, values: Sequence[float]) -> tuple[float, list[float]]:
        """Log-odds of churn and each feature's contribution to it."""
        parts = [w * (v - c) / s for w, v, c, s in
                 zip(self.weights, values, self.center, self.scale, strict=True)]
        if self.slope == 1.0 and not self.offset:
            return self.intercept + sum(parts), parts
        parts = [self.slope * p for p in parts]
        return self.slope * self.intercept + self.offset + sum(parts), parts

    def score(self, values: Sequence[float]) -> float:
        return probability(self.log_odds(values)[0])

    def explain(self, values: Sequence[float], top: int = 3
                ) -> tuple[float, list[tuple[str, str, float]]]:
        """The score and its :meth:`drivers`, from one pass over the features."""
        z, parts = self.log_odds(values)
        return probability(z), self._drivers(values, parts, top)

    def drivers(self, values: Sequence[float], top: int = 3) -> list[tuple[str, str, float]]:
        """The features that raise this customer's risk most above the typical customer's:
        (name, the customer's value beside the typical one, contribution in log-odds).

        A rule signal counts only when its alert is open: "no alert open" may add log-odds
        (the alert's weight is negative), but it is nothing a person can act on, so it is
        left in the base level rather than shown as a reason."""
        return self._drivers(values, self.log_odds(values)[1], top)

    def _drivers(self, values: Sequence[float], parts: Sequence[float], top: int
                 ) -> list[tuple[str, str, float]]:
        ranked = sorted(range(len(parts)), key=lambda i: (-parts[i], self.names[i]))
        shown = [i for i in ranked if parts[i] > 0.005
                 and (values[i] or not self.names[i].startswith("signal."))]
        return [(self.names[i], self._compared(i, values[i]), parts[i]) for i in shown[:top]]

    def _compared(self, i: int, value: float) -> str:
        name = self.names[i]
        if name.startswith("signal."):
            return readable(name, value)
        return f"{readable(name, value)} (typical customer {_shown(name, self.center[i])})"


def probability(z: float) -> float:
    """The logistic of the log-odds, clipped so a far-off customer cannot overflow it."""
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def train(values: npt.NDArray[np.float64], churned: npt.NDArray[np.float64],
          weeks: float, l2: float = 1e-3, names: tuple[str, ...] = FEATURES) -> RiskModel:
    """Maximum-likelihood logistic regression with a small ridge penalty.

    Continuous features are standardised; signal indicators are only centred, so the
    penalty bounds the log-odds an open alert adds. Standardising a signal open for 2 of
    2,357 training customers had given it -5.4 log-odds per unit, which then decided the
    risk of every customer holding that alert when scored. A feature that never varies
    among the training customers (a signal the shop's events cannot raise) keeps weight 0
    rather than an arbitrary one."""
    center = values.mean(axis=0)
    spread = values.std(axis=0)
    indicator = np.array([name.startswith("signal.") for name in names])
    scale = np.where(indicator | (spread <= 1e-9), 1.0, spread)
    z = np.column_stack([np.ones(len(values)), (values - center) / scale])
    live = np.concatenate([[True], spread > 1e-9])
    n = len(values)

    def loss(w: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        w = np.where(live, w, 0.0)
        s = z @ w
        nll = float(np.sum(np.logaddexp(0.0, s) - churned * s)) + l2 * n * float(w[1:] @ w[1:])
        grad = z.T @ (1.0 / (1.0 + np.exp(-s)) - churned)
        grad[1:] += 2 * l2 * n * w[1:]
        return nll, np.where(live, grad, 0.0)

    from scipy.optimize import minimize  # only a fit needs it (models/calibration.py)

    w = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B").x
    w = np.where(live, w, 0.0)
    return RiskModel(weeks, weeks, names, tuple(map(float, center)),
                     tuple(map(float, scale)), tuple(map(float, w[1:])), float(w[0]))
