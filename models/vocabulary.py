"""The names the contract fixes (docs/CONTRACT.md), each written once: signals, value tiers,
severities. Schemas, state codes and settings all take them from here.

Positions matter: a signal's or tier's position is the compact code state keeps
(``CustomerState.fired``, ``CustomerState.tier``), so names may only be appended."""

from __future__ import annotations

from typing import Literal, get_args

SignalName = Literal[
    "promotion_skipped", "basket_drop", "complaint_escalated", "unfollowed", "engagement_drop",
    "gone_quiet", "segment_at_risk", "nps_detractor", "recovered", "follow_up_overdue",
]
SIGNAL_NAMES: tuple[SignalName, ...] = get_args(SignalName)
WARNING_SIGNALS: tuple[SignalName, ...] = SIGNAL_NAMES[:SIGNAL_NAMES.index("recovered")]
"""The signals that say a customer is drifting away: the others report that one came
back (``recovered``) or that nobody answered an alert (``follow_up_overdue``)."""

Tier = Literal["diamond", "core", "potential", "basic"]
"""Value tiers, most valuable first (docs/DOMAIN.md, 客户分层)."""
TIERS: tuple[Tier, ...] = get_args(Tier)

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
