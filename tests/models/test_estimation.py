"""The fitter against the published CDNOW estimates (tests/data/cdnow/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from churnwatch.models.estimation import (
    Histories,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_mbgnbd,
    mbgnbd_log_likelihood,
)

DATA = Path(__file__).parents[1] / "data" / "cdnow"


@pytest.fixture(scope="module")
def calibration() -> Histories:
    d = np.genfromtxt(DATA / "cdnow_customers_summary.csv", delimiter=",", names=True)
    return Histories(d["frequency"].astype(float), d["recency"], d["T"])


def test_bgnbd_reproduces_fader_hardie_lee_2005(calibration: Histories) -> None:
    fit = fit_bgnbd(calibration)
    assert fit.customers == 2357
    assert np.round(fit.params, 3).tolist() == [0.243, 4.414, 0.793, 2.426]
    assert round(fit.log_likelihood, 1) == -9582.4


def test_gamma_gamma_reproduces_fader_hardie_2013() -> None:
    d = np.genfromtxt(DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",",
                      names=True)
    params, fit = fit_gamma_gamma(d["x"].astype(float), d["zbar"])
    assert fit.customers == 946  # the repeat buyers
    assert (round(params.p, 2), round(params.q, 2)) == (6.25, 3.74)
    assert params.gamma == pytest.approx(15.44, abs=0.01)


def test_mbgnbd_fit_is_the_maximum(calibration: Histories) -> None:
    """Nudging any fitted parameter by 1 % lowers the likelihood, and the fit explains
    CDNOW about as well as BG/NBD with the same number of parameters."""
    params, fit = fit_mbgnbd(calibration)
    best = np.array([params.r, params.alpha, params.a, params.b])
    assert fit.log_likelihood == pytest.approx(
        mbgnbd_log_likelihood(calibration, *best).sum())
    for i in range(4):
        for step in (0.99, 1.01):
            nudged = best.copy()
            nudged[i] *= step
            assert mbgnbd_log_likelihood(calibration, *nudged).sum() < fit.log_likelihood
    assert abs(fit.log_likelihood - fit_bgnbd(calibration).log_likelihood) < 10
