"""Customer-base model: P(alive) under MBG/NBD (Batislam, Denizel & Filiztekin 2007).

MBG/NBD rather than BG/NBD because BG/NBD fixes P(alive)=1 for customers with no repeat
purchase, which ranks one-time buyers as the safest customers of all.
"""

from __future__ import annotations

from dataclasses import dataclass

WEEK = 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class MbgNbdParams:
    """Population parameters; time unit weeks. Defaults are a CDNOW-scale starting point
    used until ``churnwatch fit`` provides parameters fitted to the shop's own data."""

    r: float = 0.525
    alpha: float = 6.183
    a: float = 0.891
    b: float = 1.614


def p_alive(orders: int, first_order: float, last_order: float, now: float,
            params: MbgNbdParams) -> float:
    """P(still a customer | x repeat purchases, last at t_x, observed for T)."""
    if orders <= 0:
        return 1.0
    x = orders - 1
    t_x = max(0.0, (last_order - first_order) / WEEK)
    big_t = max(t_x, (now - first_order) / WEEK)
    ratio: float = ((params.alpha + big_t) / (params.alpha + t_x)) ** (params.r + x)
    return 1.0 / (1.0 + params.a / (params.b + x) * ratio)
