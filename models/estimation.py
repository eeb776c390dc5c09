"""Maximum-likelihood fits of the population parameters of :mod:`churnwatch.models.clv`.

The likelihoods are written out from the papers (Fader, Hardie & Lee 2005 for BG/NBD;
Batislam et al. 2007 for MBG/NBD; Fader & Hardie 2013 for Gamma-Gamma) and maximised over
log-parameters, which keeps them positive without bounds. BG/NBD is here only so the fitter
can be checked against its published CDNOW estimates; scoring uses MBG/NBD.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

from churnwatch.models.clv import GammaGammaParams, MbgNbdParams

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Histories:
    """Column arrays of (x, t_x, T) in weeks, one row per customer."""

    x: Array
    t_x: Array
    age: Array

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Fit:
    params: tuple[float, ...]
    log_likelihood: float
    customers: int


def _common(h: Histories, r: float, alpha: float) -> Array:
    """log of Gamma(r+x) alpha^r / Gamma(r), the rate part shared by both models."""
    out: Array = gammaln(r + h.x) - gammaln(r) + r * np.log(alpha)
    return out


def bgnbd_log_likelihood(h: Histories, r: float, alpha: float, a: float, b: float) -> Array:
    """Per-customer log-likelihood under BG/NBD (Fader, Hardie & Lee 2005, eq. 6)."""
    alive = -(r + h.x) * np.log(alpha + h.age)
    with np.errstate(divide="ignore", invalid="ignore"):
        died = np.where(h.x > 0,
                        np.log(a) - np.log(np.maximum(b + h.x - 1, 1e-300))
                        - (r + h.x) * np.log(alpha + h.t_x), -np.inf)
    out: Array = (_common(h, r, alpha) + betaln(a, b + h.x) - betaln(a, b)
                  + np.logaddexp(alive, died))
    return out


def mbgnbd_log_likelihood(h: Histories, r: float, alpha: float, a: float, b: float) -> Array:
    """Per-customer log-likelihood under MBG/NBD: dropout may also follow the first purchase."""
    alive = -(r + h.x) * np.log(alpha + h.age)
    died = np.log(a) - np.log(b + h.x) - (r + h.x) * np.log(alpha + h.t_x)
    out: Array = (_common(h, r, alpha) + betaln(a, b + h.x + 1) - betaln(a, b)
                  + np.logaddexp(alive, died))
    return out


def gamma_gamma_log_likelihood(n: Array, mean_value: Array, p: float, q: float,
                               gamma: float) -> Array:
    """Per-customer log-likelihood of the mean purchase value (Fader & Hardie 2013),
    up to a term free of the parameters."""
    pn = p * n
    out: Array = (gammaln(pn + q) - gammaln(pn) - gammaln(q) + q * np.log(gamma)
                  + (pn - 1) * np.log(mean_value) + pn * np.log(n)
                  - (pn + q) * np.log(gamma + n * mean_value))
    return out


def _maximise(log_likelihood: Callable[..., Array], n_params: int, rows: int) -> Fit:
    def loss(log_params: Array) -> float:
        total = float(np.sum(log_likelihood(*np.exp(log_params))))
        return -total if np.isfinite(total) else np.inf

    start = np.zeros(n_params)
    first = minimize(loss, start, method="Nelder-Mead",
                     options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 20_000})
    best = minimize(loss, first.x, method="BFGS", options={"gtol": 1e-8})
    chosen = best if best.fun <= first.fun else first
    return Fit(tuple(float(v) for v in np.exp(chosen.x)), -float(chosen.fun), rows)


def fit_bgnbd(h: Histories) -> Fit:
    return _maximise(lambda *p: bgnbd_log_likelihood(h, *p), 4, len(h))


def fit_mbgnbd(h: Histories) -> tuple[MbgNbdParams, Fit]:
    fit = _maximise(lambda *p: mbgnbd_log_likelihood(h, *p), 4, len(h))
    return MbgNbdParams(*fit.params), fit


def fit_gamma_gamma(n: Array, mean_value: Array) -> tuple[GammaGammaParams, Fit]:
    """Fit on customers with at least one purchase value to average (n > 0, mean > 0)."""
    keep = (n > 0) & (mean_value > 0)
    n, mean_value = n[keep], mean_value[keep]
    fit = _maximise(lambda *p: gamma_gamma_log_likelihood(n, mean_value, *p), 3, len(n))
    return GammaGammaParams(*fit.params), fit
