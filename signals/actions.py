"""Recommended actions: what marketing should do about a finding, for this customer.

docs/DOMAIN.md: recall must be personal, not a generic discount, and effort should follow value.
So the action is the signal's play, delivered through the channel and the people that the
customer's tier pays for, and never more than a low-cost touch for low-value customers.
"""

from __future__ import annotations

from dataclasses import dataclass

from churnwatch.models.vocabulary import Tier


@dataclass(frozen=True, slots=True)
class Action:
    code: str
    channel: str
    text: str


_PLAYS: dict[str, tuple[str, str]] = {
    "promotion_skipped": ("personalised_offer",
                          "stop generic promotions; offer one product matched to past purchases"),
    "basket_drop": ("needs_survey",
                    "ask what changed and suggest a bundle close to the usual basket"),
    "complaint_escalated": ("service_recovery",
                            "call back within 2 hours and settle the refund or exchange "
                            "within 24 hours"),
    "unfollowed": ("care_message",
                   "send a personal care message on a channel the customer still uses"),
    "engagement_drop": ("re_engagement",
                        "send a new-product notice or community invitation matched to interests"),
    "gone_quiet": ("personal_recall",
                   "send a personal recall offer that fits the customer "
                   "(e.g. bring-a-friend or a tailored bundle)"),
    "segment_at_risk": ("win_back",
                        "retain actively: personal outreach with a member benefit or coupon"),
    "nps_detractor": ("callback_visit",
                      "make a call-back visit (回访) to hear the problem and close the loop"),
    "follow_up_overdue": ("escalate_follow_up",
                          "act on the open alert now, and report the action taken"),
    "recovered": ("stop_recall",
                  "stop the recall campaign for this customer and record the recovery"),
}

_DELIVERY: dict[Tier, tuple[str, str]] = {
    "diamond": ("phone", "by the dedicated team"),
    "core": ("phone", "by the account manager"),
    "potential": ("app_message", "by the shared account manager"),
    "basic": ("sms", "as an automated message"),
}

LOW_VALUE_SEGMENTS = frozenset({"low-value"})


def recommend(signal: str, tier: Tier, segment: str) -> Action:
    code, what = _PLAYS[signal]
    channel, who = _DELIVERY[tier]
    if signal == "recovered":
        return Action(code, "automation", what)
    if signal == "follow_up_overdue":
        return Action(code, "team_lead", f"{what}: the customer is owed a response {who}")
    if segment in LOW_VALUE_SEGMENTS and tier == "basic" and signal != "complaint_escalated":
        return Action("low_cost_touch", "email",
                      f"low-cost contact only ({segment} customer): {what}")
    return Action(code, channel, f"{what}, {who}")
