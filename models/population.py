"""Population statistics behind segments, quintile scores and value tiers.

Each customer contributes one ``(last_order, F, M)`` triple. The aggregates are sums and
fixed-bin histograms, so they are *mergeable*: the statistics of two disjoint sets of
customers (two partitions, two workers) are the element-wise sum of their aggregates.
Removing a customer's old triple and adding the new one keeps them current.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

WEEK = 7 * 86_400
LAST_BINS = 8192  # weeks since 1970: up to the year 2127
F_BINS = 256
M_BINS = 256
M_BINS_PER_DECADE = 20  # value resolution about 12 %
TIER_SHARES = (0.02, 0.20, 0.50)  # cumulative top shares of diamond, core, potential

Histogram = npt.NDArray[np.int64]


def last_bin(last_order: int) -> int:
    return min(max(last_order // WEEK, 0), LAST_BINS - 1)


def f_bin(frequency: int) -> int:
    return min(max(frequency, 0), F_BINS - 1)


def m_bin(monetary_cents: int) -> int:
    if monetary_cents <= 0:
        return 0
    return min(1 + int(math.log10(monetary_cents) * M_BINS_PER_DECADE), M_BINS - 1)


class Population:
    """Additive aggregates of every customer's contribution."""

    __slots__ = ("h_f", "h_last", "h_m", "n", "sum_f", "sum_last", "sum_m")

    def __init__(self) -> None:
        self.n = 0
        self.sum_last = 0
        self.sum_f = 0
        self.sum_m = 0
        self.h_last: Histogram = np.zeros(LAST_BINS, np.int64)
        self.h_f: Histogram = np.zeros(F_BINS, np.int64)
        self.h_m: Histogram = np.zeros(M_BINS, np.int64)

    def add(self, contribution: Sequence[int], sign: int = 1) -> None:
        last, f, m = contribution
        self.n += sign
        self.sum_last += sign * last
        self.sum_f += sign * f
        self.sum_m += sign * m
        self.h_last[last_bin(last)] += sign
        self.h_f[f_bin(f)] += sign
        self.h_m[m_bin(m)] += sign

    def replace(self, old: Sequence[int], new: Sequence[int]) -> None:
        if old:
            self.add(old, -1)
        if new:
            self.add(new, 1)

    def merged(self, others: Sequence[Population]) -> Population:
        total = Population()
        for part in (self, *others):
            total.n += part.n
            total.sum_last += part.sum_last
            total.sum_f += part.sum_f
            total.sum_m += part.sum_m
            total.h_last += part.h_last
            total.h_f += part.h_f
            total.h_m += part.h_m
        return total

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(
            buf, sums=np.array([self.n, self.sum_last, self.sum_f, self.sum_m], np.int64),
            h_last=self.h_last, h_f=self.h_f, h_m=self.h_m)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Population:
        arrays = np.load(io.BytesIO(data))
        pop = cls()
        pop.n, pop.sum_last, pop.sum_f, pop.sum_m = (int(v) for v in arrays["sums"])
        pop.h_last, pop.h_f, pop.h_m = arrays["h_last"], arrays["h_f"], arrays["h_m"]
        return pop

    def sparse(self) -> dict[str, list[list[int]]]:
        """The histograms as ``[bin, count]`` pairs of their non-empty bins (a fitted
        model file carries them; most of the 8192 weeks are empty)."""
        return {name: [[int(b), int(hist[b])] for b in np.flatnonzero(hist)]
                for name, hist in (("last", self.h_last), ("f", self.h_f), ("m", self.h_m))}

    @classmethod
    def from_sparse(cls, sums: Sequence[int], bins: dict[str, list[list[int]]]) -> Population:
        pop = cls()
        pop.n, pop.sum_last, pop.sum_f, pop.sum_m = sums
        for name, hist in (("last", pop.h_last), ("f", pop.h_f), ("m", pop.h_m)):
            for b, count in bins[name]:
                hist[b] = count
        return pop

    def view(self, as_of: float | None = None) -> PopulationView:
        """Statistics to classify with; ``as_of`` freezes them at that event time (see
        ``PopulationView.shift``)."""
        if self.n <= 0:
            return EMPTY_VIEW
        return PopulationView(
            as_of=as_of,
            n=self.n,
            mean_last=self.sum_last / self.n,
            mean_f=self.sum_f / self.n,
            mean_m=self.sum_m / self.n,
            last_mid=_mid_ranks(self.h_last),
            f_mid=_mid_ranks(self.h_f),
            m_mid=_mid_ranks(self.h_m),
            tier_min_bins=_tier_min_bins(self.h_m),
        )


def _mid_ranks(hist: Histogram) -> npt.NDArray[np.float64]:
    """Per bin, the share of customers below it plus half of those in it: a customer's
    percentile with ties split evenly, so a crowded bin does not all score 1."""
    result: npt.NDArray[np.float64] = (np.cumsum(hist) - hist / 2) / hist.sum()
    return result


def _tier_min_bins(hist: Histogram) -> tuple[int, ...]:
    """Lowest M bin of each tier: customers in the bin where fewer than the tier's share
    of the population lies strictly above (ties at a bin edge go to the higher tier)."""
    total = hist.sum()
    above = (total - np.cumsum(hist)) / total  # share strictly above each bin
    return tuple(int(np.argmax(above < share)) for share in TIER_SHARES)


@dataclass(frozen=True, slots=True, eq=False)
class PopulationView:
    """An immutable snapshot that classifications read; refreshed now and then."""

    as_of: float | None
    """None: live statistics, refreshed as customers change. A time: statistics frozen
    then (a fitted model's), which compare recency by age rather than by date."""
    n: int
    mean_last: float
    mean_f: float
    mean_m: float
    last_mid: npt.NDArray[np.float64]
    f_mid: npt.NDArray[np.float64]
    m_mid: npt.NDArray[np.float64]
    tier_min_bins: tuple[int, ...]

    def shift(self, now: float) -> float:
        """What to add to an event time before comparing it with these statistics: zero
        when live; for frozen statistics, moves ``now`` back to ``as_of``, so a customer
        who last bought 30 days ago is compared with those who had bought 30 days before
        ``as_of``."""
        return 0.0 if self.as_of is None else self.as_of - now

    def score(self, which: str, value: int) -> int:
        """1-5 quintile score; 5 = most recent, most frequent, highest spend."""
        if self.n == 0:
            return 3
        if which == "r":
            pct = self.last_mid[last_bin(value)]
        elif which == "f":
            pct = self.f_mid[f_bin(value)]
        else:
            pct = self.m_mid[m_bin(value)]
        return 1 + min(4, int(pct * 5))

    def tier_rank(self, monetary_cents: int) -> int:
        """0 diamond, 1 core, 2 potential, 3 basic."""
        if self.n == 0 or monetary_cents <= 0:
            return 3
        b = m_bin(monetary_cents)
        for rank, lowest in enumerate(self.tier_min_bins):
            if b >= lowest:
                return rank
        return 3


_NONE = np.zeros(0)
EMPTY_VIEW = PopulationView(None, 0, 0.0, 0.0, 0.0, _NONE, _NONE, _NONE, ())
"""What classifications see before any customer has bought."""
