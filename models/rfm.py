"""RFM segments (docs/DOMAIN.md) and value tiers with their service levels.

The classic rule compares each of R, F, M with the population mean: at or above the mean
is "up". For R, up means *long ago*. The eight combinations all have names: the six of the
course plus the two docs/DOMAIN.md names for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from churnwatch.models.population import PopulationView
from churnwatch.models.state import DAY, CustomerState
from churnwatch.models.vocabulary import TIERS, Tier

SEGMENTS: dict[tuple[bool, bool, bool], str] = {
    # (R up, F up, M up)
    (False, True, True): "important-keep",  # 重要保持客户
    (False, False, True): "important-develop",  # 重要发展客户
    (False, True, False): "general-important",  # 一般重要客户
    (True, True, True): "important-retain",  # 重要挽留客户: churn risk
    (True, True, False): "general",  # 一般客户
    (True, False, False): "low-value",  # 无价值客户
    (False, False, False): "general-develop",  # 一般发展客户: recent but light, often new
    (True, False, True): "lapsed-big-spender",  # lapsed big spender, worth a recall
}
SEGMENT_CODES = {name: code for code, name in enumerate(SEGMENTS.values())}
NO_PURCHASE = "prospect"
"""Segment of a customer who has never bought: R is undefined for them."""

TIER_RANKS: dict[Tier, int] = {tier: rank for rank, tier in enumerate(TIERS)}
"""0 = diamond: the compact code state keeps (``CustomerState.tier``)."""
RESPOND_HOURS: dict[Tier, int] = {"diamond": 1, "core": 4, "potential": 24, "basic": 48}
"""Each tier's service level (docs/DOMAIN.md, 客户分层)."""


def respond_within(tier: Tier) -> str:
    """The tier's service level as an ISO 8601 duration, e.g. ``PT4H``."""
    return f"PT{RESPOND_HOURS[tier]}H"


@dataclass(frozen=True, slots=True)
class RfmSnapshot:
    recency_days: float | None
    frequency: int
    monetary: float
    r_score: int
    f_score: int
    m_score: int
    segment: str
    tier: Tier


def segment_of(state: CustomerState, now: float, f: int, m: int, view: PopulationView) -> str:
    if not state.first_order:
        return NO_PURCHASE
    r_up = state.last_order + view.shift(now) <= view.mean_last
    return SEGMENTS[(r_up, f >= view.mean_f, m >= view.mean_m)]


def classify(state: CustomerState, now: float, view: PopulationView,
             window: tuple[int, int]) -> tuple[str, Tier]:
    """Segment and tier alone: what every item needs (scores only an alert needs)."""
    f, m = window
    return segment_of(state, now, f, m, view), TIERS[view.tier_rank(m)]


def snapshot(state: CustomerState, now: float, view: PopulationView,
             window: tuple[int, int]) -> RfmSnapshot:
    """R, F, M with scores, segment and tier; ``window`` is the rolling (F, M cents)."""
    return scored(state, now, view, window, *classify(state, now, view, window))


def scored(state: CustomerState, now: float, view: PopulationView, window: tuple[int, int],
           segment: str, tier: Tier) -> RfmSnapshot:
    """:func:`snapshot` for a customer already classified as of ``now``."""
    f, m = window
    bought = bool(state.first_order)
    return RfmSnapshot(
        recency_days=round((now - state.last_order) / DAY, 2) if bought else None,
        frequency=f,
        monetary=m / 100,
        r_score=view.score("r", int(state.last_order + view.shift(now))) if bought else 1,
        f_score=view.score("f", f),
        m_score=view.score("m", m),
        segment=segment,
        tier=tier,
    )
