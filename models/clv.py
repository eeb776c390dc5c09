"""Customer-base models, per customer: MBG/NBD for purchases and dropout, Gamma-Gamma for spend.

MBG/NBD (Batislam, Denizel & Filiztekin 2007) rather than BG/NBD: BG/NBD fixes P(alive)=1
for customers with no repeat purchase, so its 1 - P(alive) ranks one-time buyers as the
safest customers of all. Time is in weeks, the unit the published estimates use.

Every function here is closed form except :func:`expected_purchases_if_alive` (one Gauss
hypergeometric value), so scoring a customer costs microseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import hyp2f1

WEEK = 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class MbgNbdParams:
    """Purchase rate ~ Gamma(r, alpha); dropout after each purchase ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True, slots=True)
class GammaGammaParams:
    """Spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, gamma) across customers."""

    p: float
    q: float
    gamma: float


@dataclass(frozen=True, slots=True)
class History:
    """What the models read of a customer: the sufficient statistics (x, t_x, T)."""

    x: int  # repeat purchases
    t_x: float  # weeks from the first purchase to the last
    age: float  # T: weeks from the first purchase to now

    @classmethod
    def of(cls, orders: int, first_order: float, last_order: float, now: float) -> History:
        t_x = max(0.0, (last_order - first_order) / WEEK)
        return cls(max(0, orders - 1), t_x, max(t_x, (now - first_order) / WEEK))


def p_alive(h: History, m: MbgNbdParams) -> float:
    """P(the customer has not dropped out by now | history).

    1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x)), in log space: the
    power overflows for a customer with many purchases long ago."""
    log_odds_dead = (math.log(m.a / (m.b + h.x))
                     + (m.r + h.x) * math.log((m.alpha + h.age) / (m.alpha + h.t_x)))
    if log_odds_dead > 0:
        return math.exp(-log_odds_dead) / (1.0 + math.exp(-log_odds_dead))
    return 1.0 / (1.0 + math.exp(log_odds_dead))


def p_no_purchase(h: History, weeks: float, m: MbgNbdParams) -> float:
    """P(no purchase in the next ``weeks`` | history): dead now, or alive and not buying.

    While alive, the wait for the next purchase is exponential in the rate, whose posterior
    given the history is Gamma(r + x, alpha + T); dropout only happens after a purchase."""
    quiet: float = ((m.alpha + h.age) / (m.alpha + h.age + weeks)) ** (m.r + h.x)
    return 1.0 - p_alive(h, m) * (1.0 - quiet)


def expected_purchases_if_alive(h: History, weeks: float, m: MbgNbdParams) -> float:
    """E[purchases in the next ``weeks`` | history, alive now] (MBG/NBD).

    The published form is (a + b + x) / (a - 1) * (1 - 2F1(r + x, b + x + 1; a + b + x; z)
    * (1 - z) ** (r + x)) with z = weeks / (alpha + T + weeks). For many purchases the
    2F1 overflows while the power underflows (inf * 0). Euler's transformation
    2F1(A, B; C; z) = (1 - z) ** (C - A - B) * 2F1(C - A, C - B; C; z) gives the same
    product as (1 - z) ** (a - 1) * 2F1(a + b - r, a - 1; a + b + x; z), finite for any x
    but not for a population fitted with almost no dropout (a, b in the millions), where
    the published form works: each is used where it is finite."""
    z = weeks / (m.alpha + h.age + weeks)
    with np.errstate(all="ignore"):
        kept = float(hyp2f1(m.r + h.x, m.b + h.x + 1, m.a + m.b + h.x, z)) * float(
            (1.0 - z) ** (m.r + h.x))
        if not math.isfinite(kept):
            kept = float((1.0 - z) ** (m.a - 1)) * float(
                hyp2f1(m.a + m.b - m.r, m.a - 1, m.a + m.b + h.x, z))
    if not math.isfinite(kept):  # both overflow: the no-dropout limit, rate x weeks
        return (m.r + h.x) / (m.alpha + h.age) * weeks
    # (a + b + x) / (a - 1) and the bracket change sign together when a < 1
    return (m.a + m.b + h.x) / (m.a - 1) * (1.0 - kept)


def expected_purchases(h: History, weeks: float, m: MbgNbdParams) -> float:
    """E[purchases in the next ``weeks`` | history]: the MBG/NBD forecast."""
    return p_alive(h, m) * expected_purchases_if_alive(h, weeks, m)


def expected_spend(purchases: int, mean_value: float, g: GammaGammaParams) -> float:
    """E[value of a purchase | the customer's ``purchases`` averaging ``mean_value``].

    A weighted mean of the population mean and the customer's own: the more purchases,
    the more weight on the customer's own average."""
    if purchases <= 0:
        return g.p * g.gamma / (g.q - 1)
    return g.p * (g.gamma + purchases * mean_value) / (g.p * purchases + g.q - 1)
