"""The per-customer MBG/NBD and Gamma-Gamma formulas against a simulated population."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnwatch.models.clv import (
    GammaGammaParams,
    History,
    MbgNbdParams,
    expected_purchases,
    expected_purchases_if_alive,
    expected_spend,
    p_alive,
    p_no_purchase,
)

AGE, AHEAD, CUSTOMERS = 52.0, 26.0, 20_000


def simulate(m: MbgNbdParams, seed: int) -> tuple[list[History], np.ndarray, np.ndarray]:
    """MBG/NBD as a story: buy at rate lambda, and after every purchase (the first one
    too) drop out with probability p. Returns histories at AGE, alive at AGE, and purchases
    in the AHEAD weeks after."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(m.r, 1 / m.alpha, CUSTOMERS)
    drops = rng.beta(m.a, m.b, CUSTOMERS)
    histories, alive, later = [], np.zeros(CUSTOMERS), np.zeros(CUSTOMERS)
    for i in range(CUSTOMERS):
        t, times = 0.0, [0.0]
        dead = rng.random() < drops[i]
        while not dead:
            t += rng.exponential(1 / rates[i])
            if t > AGE + AHEAD:
                break
            times.append(t)
            dead = rng.random() < drops[i]
        seen = [s for s in times if s <= AGE]
        histories.append(History(len(seen) - 1, seen[-1], AGE))
        alive[i] = not (dead and times[-1] <= AGE)
        later[i] = len(times) - len(seen)
    return histories, alive, later


@pytest.mark.parametrize("m", [MbgNbdParams(0.62, 8.66, 0.55, 1.01),  # a < 1, as on CDNOW
                               MbgNbdParams(0.8, 6.0, 2.5, 4.0)])
def test_conditional_forecasts_match_a_simulated_population(m: MbgNbdParams) -> None:
    histories, alive, later = simulate(m, seed=3)
    predicted_alive = sum(p_alive(h, m) for h in histories)
    predicted_quiet = sum(p_no_purchase(h, AHEAD, m) for h in histories)
    predicted_purchases = sum(expected_purchases(h, AHEAD, m) for h in histories)
    assert predicted_alive == pytest.approx(alive.sum(), rel=0.03)
    assert predicted_quiet == pytest.approx((later == 0).sum(), rel=0.03)
    assert predicted_purchases == pytest.approx(later.sum(), rel=0.05)


def test_silence_lowers_p_alive_and_raises_p_no_purchase() -> None:
    m = MbgNbdParams(0.62, 8.66, 0.55, 1.01)
    recent, silent = History(5, 50.0, 52.0), History(5, 10.0, 52.0)
    assert p_alive(silent, m) < p_alive(recent, m)
    assert p_no_purchase(silent, 26, m) > p_no_purchase(recent, 26, m)
    assert p_no_purchase(recent, 1, m) > p_no_purchase(recent, 26, m)


def test_expected_spend_shrinks_towards_the_population_mean() -> None:
    g = GammaGammaParams(6.25, 3.74, 15.44)
    population = g.p * g.gamma / (g.q - 1)
    assert expected_spend(0, 0.0, g) == pytest.approx(population)
    one, many = expected_spend(1, 100.0, g), expected_spend(50, 100.0, g)
    assert population < one < many < 100.0


# The shipped CDNOW fit, and one fitted to a generated log with almost no dropout.
POPULATIONS = [MbgNbdParams(r=0.6178, alpha=8.657, a=0.5515, b=1.009),
               MbgNbdParams(r=13.2972, alpha=29.2276, a=127025.3319, b=23597961.4106)]


@settings(max_examples=400, deadline=None)
@given(x=st.integers(0, 2_000_000), t_x=st.floats(0, 7000), extra=st.floats(0, 7000),
       weeks=st.floats(1, 520), m=st.sampled_from(POPULATIONS))
def test_forecasts_stay_finite_for_any_history_the_detector_accepts(
        x: int, t_x: float, extra: float, weeks: float, m: MbgNbdParams) -> None:
    """130 years (the event-time floor to the ceiling) and millions of purchases: the
    published forms overflow here (2F1 to inf times a power to 0, or OverflowError)."""
    h = History(x, t_x, t_x + extra)
    assert 0.0 <= p_alive(h, m) <= 1.0
    assert 0.0 <= p_no_purchase(h, weeks, m) <= 1.0
    forecast = expected_purchases_if_alive(h, weeks, m)
    assert math.isfinite(forecast) and forecast >= 0


@settings(max_examples=200, deadline=None)
@given(x=st.integers(0, 60), t_x=st.floats(0, 200), extra=st.floats(0, 200),
       weeks=st.floats(1, 104), m=st.sampled_from(POPULATIONS))
def test_the_stable_form_equals_the_published_one(
        x: int, t_x: float, extra: float, weeks: float, m: MbgNbdParams) -> None:
    from scipy.special import hyp2f1

    h = History(x, t_x, t_x + extra)
    base = m.alpha + h.age
    published = (m.a + m.b + x) / (m.a - 1) * (1 - float(
        hyp2f1(m.r + x, m.b + x + 1, m.a + m.b + x, weeks / (base + weeks)))
        * (base / (base + weeks)) ** (m.r + x))
    assert expected_purchases_if_alive(h, weeks, m) == pytest.approx(published, rel=1e-7,
                                                                     abs=1e-9)
    ratio = ((m.alpha + h.age) / (m.alpha + h.t_x)) ** (m.r + x)
    assert p_alive(h, m) == pytest.approx(1 / (1 + m.a / (m.b + x) * ratio), rel=1e-9)
