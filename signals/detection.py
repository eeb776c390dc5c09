"""The detection settings: everything that decides an alert, as one pydantic section.

One class per signal, named after its module (``GoneQuietSettings`` for ``gone_quiet.py``),
then what all signals share: governance, the population view, event time, the rolling
window. They are here rather than in each signal's module: the signals are compiled
(setup.py) and read these classes at run time, so a signal module declaring its own would
import this one and be imported by it; tried with type-only imports, the compiled wheel
crashed on import (that build also carried stale extensions, so the cause is not pinned
down). This module stays pure Python.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as _ValidationError

from churnwatch.models.vocabulary import Tier

_SHORT_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_TIMEDELTA = TypeAdapter(timedelta)


def parse_duration(value: Any) -> timedelta:
    """``10m``, ``2h``, ``30d``, ``1w``, ``45s``, ISO 8601 (``PT10M``) or seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str) and (short := _SHORT_DURATION.match(value)):
        return timedelta(**{_UNITS[short.group(2)]: float(short.group(1))})
    try:
        return _TIMEDELTA.validate_python(value)
    except _ValidationError:
        raise ValueError("expected a duration such as 10m, 2h, 30d, or ISO 8601 like "
                         "PT10M") from None


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Section(BaseModel):
    """A group of settings: frozen, and a misspelt name is refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PromotionSkippedSettings(Section):
    consecutive: int = Field(2, ge=1, description="expired offers in a row without redemption")


class BasketDropSettings(Section):
    ratio: float = Field(0.4, gt=0, lt=1, description="fires below ratio x usual order value")
    min_orders: int = Field(3, ge=1, description="orders needed before 'usual' means anything")


class ComplaintEscalatedSettings(Section):
    lookback_days: float = Field(90, gt=0, description="how far back a smaller complaint counts")


class EngagementDropSettings(Section):
    recent_half_life_days: float = Field(14, gt=0)
    baseline_half_life_days: float = Field(90, gt=0)
    ratio: float = Field(0.25, gt=0, lt=1, description="fires when recent rate < ratio x baseline")
    min_baseline_per_30d: float = Field(
        4.0, gt=0, description="baseline visits+posts per 30 days needed to judge a drop"
    )
    # Visits are bursty (Poisson): at 4 a month a 40-day gap is common. The lull must be
    # long enough that the baseline predicts this many visits in it; P(none by chance)
    # is then exp(-min_expected_missing), about 0.03 % at 8.
    min_expected_missing: float = Field(
        8.0, gt=0, description="visits the baseline predicts during the silence")
    min_history_days: float = Field(45, ge=0, description="engagement history needed first")


class GoneQuietSettings(Section):
    gap_factor: float = Field(3.0, gt=1, description="silent for this many usual gaps")
    min_orders: int = Field(3, ge=2, description="orders needed to trust the usual gap")
    floor_days: float = Field(21, gt=0, description="never sooner than this")
    absolute_days: float = Field(90, gt=0, description="absolute limit (DOMAIN: about 3 months)")


class SegmentAtRiskSettings(Section):
    valuable_tiers: tuple[Tier, ...] = ("diamond", "core")
    overdue_factor: float = Field(
        2.0, ge=1, description="the move into important-retain counts once recency also "
        "exceeds this many of the customer's own usual gaps")
    min_spend_drop: float = Field(
        0.3, gt=0, lt=1, description="a tier drop counts once rolling spend fell this share "
        "below its peak in the old tier")
    min_orders: int = Field(3, ge=2, description="orders needed before 'overdue' means anything")
    min_population: int = Field(50, ge=1, description="buying customers needed to classify")


class NpsDetractorSettings(Section):
    max_score: int = Field(6, ge=0, le=10)


class GovernanceSettings(Section):
    cooldown_days: float = Field(30, ge=0, description="per (customer, signal)")
    cap_per_customer: int = Field(3, ge=1, description="alerts per customer per cap window")
    cap_window_days: float = Field(30, gt=0)


class PopulationSettings(Section):
    """Which customers segments, scores and tiers are relative to (README, "Streaming and
    replay")."""

    mode: Literal["live", "fitted"] = Field(
        "live", description="live: every customer seen so far, kept current; fitted: the "
        "customers of the log `churnwatch fit` was run on (risk.params_file), frozen, so "
        "that streaming and replay classify identically")
    refresh_every: int = Field(
        1000, ge=1, description="live: customer updates between recomputing means and "
        "quantiles")


class EventTimeSettings(Section):
    """Which event times are believable, and how event time moves (churnwatch/engine/eventtime.py).
    A refused event goes to the dead-letter output with the reason."""

    earliest: AwareDatetime = Field(datetime(1970, 1, 1, tzinfo=UTC),
                                    description="events before this are refused")
    latest: AwareDatetime = Field(datetime(2100, 1, 1, tzinfo=UTC),
                                  description="events after this are refused")
    max_held: int = Field(1000, ge=1, description="events one customer may have waiting "
                          "for event time; more are refused (bounds what a customer with "
                          "its clock ahead holds, and the size of its stored state)")
    quorum: int = Field(3, ge=1, description="distinct customers that must reach a time "
                        "before it is event time, at the least: fewer can never move it")
    share: float = Field(0.1, ge=0, le=1, description="and the share of the customers "
                         "active recently that must reach it: a smaller group can never "
                         "move event time, whatever times it sends")
    active_days: int = Field(30, ge=0, description="customers are active recently at a "
                             "time when their newest event is on or after the day this "
                             "many days before it")
    max_ahead_of_wall: Duration = Field(timedelta(days=1), description="live workers: "
                                        "also refuse events this far ahead of the clock")


class DetectionSettings(Section):
    """Business thresholds. Everything that decides an alert lives here."""

    window_days: float = Field(365, gt=0, description="rolling window of F and M")
    event_time: EventTimeSettings = EventTimeSettings()
    allowed_lateness: Duration = Field(
        timedelta(minutes=10), description="how far behind the newest event time events may arrive"
    )
    usual_value_alpha: float = Field(0.3, gt=0, le=1, description="EWMA weight of a new order")
    promotion_skipped: PromotionSkippedSettings = PromotionSkippedSettings()
    basket_drop: BasketDropSettings = BasketDropSettings()
    complaint_escalated: ComplaintEscalatedSettings = ComplaintEscalatedSettings()
    engagement_drop: EngagementDropSettings = EngagementDropSettings()
    gone_quiet: GoneQuietSettings = GoneQuietSettings()
    segment_at_risk: SegmentAtRiskSettings = SegmentAtRiskSettings()
    nps_detractor: NpsDetractorSettings = NpsDetractorSettings()
    governance: GovernanceSettings = GovernanceSettings()
    population: PopulationSettings = PopulationSettings()
