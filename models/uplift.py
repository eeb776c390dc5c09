"""Win-back rates and uplift with their uncertainty: the arithmetic of a holdout test.

Rates get Wilson score intervals (honest near 0 and 1 and for small groups, where the
textbook normal interval is not); the difference of two rates gets Newcombe's hybrid
score interval built from them, and a pooled two-proportion z-test says how surprising
it would be without any effect. Alerts of one customer are not independent, so each
group's intervals and test use its design effect (:class:`Group`). Revenue per alert is
compared as a difference of means with a normal interval whose variance comes from the
spread between customers. Everything is pure arithmetic over counts, so the same
outcomes always give the same figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Z95 = 1.959963984540054


def wilson(won: float, n: float, z: float = Z95) -> tuple[float, float]:
    """95 % interval of a rate ``won / n`` (``(0, 1)`` when ``n`` is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = won / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


@dataclass
class Group:
    """Closed alerts of one group: how many, how many won back, and their revenue, kept
    by cluster (the customer) too. Customers, not alerts, are what the holdout assigns,
    and one customer's alerts go together (a customer won back wins back all their open
    alerts), so the uncertainty is the clustered one: each interval is widened by the
    group's design effect, measured from the spread between customers (1 when no customer
    has two alerts, giving the textbook intervals)."""

    n: int = 0
    won: int = 0
    revenue: float = 0.0
    cost: float = 0.0
    clusters: dict[object, list[float]] = field(default_factory=dict, repr=False)
    """cluster -> [alerts, won back, revenue]"""

    def add(self, won: bool, revenue: float, cost: float = 0.0,
            cluster: object = None) -> None:
        """``cluster``: whose alert it is (None: an alert on its own)."""
        self.n += 1
        self.won += won
        self.revenue += revenue
        self.cost += cost
        sums = self.clusters.setdefault(("alert", self.n) if cluster is None else cluster,
                                        [0, 0, 0.0])
        sums[0] += 1
        sums[1] += won
        sums[2] += revenue

    @property
    def rate(self) -> float:
        return self.won / self.n if self.n else 0.0

    @property
    def design_effect(self) -> float:
        """Variance of the rate between customers over what independent alerts would
        have (at least 1)."""
        p, n = self.rate, self.n
        if not n or p in (0.0, 1.0):
            return 1.0
        between = sum((won - p * k) ** 2 for k, won, _ in self.clusters.values()) / n ** 2
        return max(1.0, between / (p * (1 - p) / n))

    @property
    def interval(self) -> tuple[float, float]:
        """Wilson's interval on the effective number of alerts."""
        if not self.n:
            return wilson(0, 0)
        effective = self.n / self.design_effect
        return wilson(self.rate * effective, effective)

    @property
    def revenue_mean(self) -> float:
        return self.revenue / self.n if self.n else 0.0

    def revenue_mean_var(self) -> float:
        """Variance of the mean revenue per alert, between customers."""
        m = len(self.clusters)
        if m < 2:
            return 0.0
        mean = self.revenue_mean
        spread = sum((rev - mean * k) ** 2 for k, _, rev in self.clusters.values())
        return spread / self.n ** 2 * m / (m - 1)


@dataclass(frozen=True)
class Uplift:
    """Treated minus held out."""

    difference: float
    interval: tuple[float, float]
    p_value: float
    revenue_per_alert: float
    """incremental revenue per treated alert"""
    revenue_interval: tuple[float, float]


def uplift(treated: Group, held: Group) -> Uplift:
    p1, p2 = treated.rate, held.rate
    (l1, u1), (l2, u2) = treated.interval, held.interval
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pooled = (treated.won + held.won) / (treated.n + held.n)
    se = math.sqrt(pooled * (1 - pooled) * (treated.design_effect / treated.n
                                            + held.design_effect / held.n))
    p_value = two_sided_p(d / se) if se > 0 else 1.0
    r = treated.revenue_mean - held.revenue_mean
    r_se = math.sqrt(treated.revenue_mean_var() + held.revenue_mean_var())
    return Uplift(d, (low, high), p_value, r, (r - Z95 * r_se, r + Z95 * r_se))
