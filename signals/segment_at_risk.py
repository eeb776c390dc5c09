"""A valuable customer moves into important-retain (重要挽留: R up, F up, M up) or drops a
value tier.

Compares the segment and tier of this moment with the ones recorded at the customer's
previous item, so it fires on the move, not on every look at a customer already there.

Two guards keep it about *this* customer drifting. A regular buyer between two orders sits
above the population's mean recency half of the time, so the move into important-retain
counts only when the customer is also overdue by their own rhythm. A tier lost because
other customers grew says nothing about this one, so a tier drop counts only when the
customer's own rolling spend fell well below its peak in the old tier.
"""

from __future__ import annotations

from churnwatch.models.rfm import SEGMENT_CODES, TIER_RANKS
from churnwatch.models.vocabulary import TIERS
from churnwatch.signals.base import Context, Finding, Reason, Signal, tiered

RETAIN = "important-retain"
SEGMENT_NAMES = tuple(SEGMENT_CODES)


class SegmentAtRisk(Signal):
    name = "segment_at_risk"

    def evaluate(self, ctx: Context) -> Finding | None:
        st, rule = ctx.state, ctx.settings.segment_at_risk
        if ctx.view.n < rule.min_population or st.segment < 0 or st.tier < 0:
            return None
        segment, tier = ctx.segment, ctx.tier
        old_segment = SEGMENT_NAMES[st.segment] if 0 <= st.segment < len(SEGMENT_NAMES) else ""
        old_tier_valuable = TIERS[st.tier] in rule.valuable_tiers
        new_tier = TIER_RANKS[tier]
        reasons = []
        # the cheap tests first: every item asks, and almost none moves
        if segment == RETAIN and old_segment != RETAIN and (
                old_tier_valuable or tier in rule.valuable_tiers) and (
                st.orders >= rule.min_orders
                and ctx.now - st.last_order > rule.overdue_factor * st.mean_gap()):
            reasons.append(Reason("moved_to_important_retain",
                                  f"moved from {old_segment} to {RETAIN}: frequent, "
                                  "high-spending and now silent longer than most"))
        if old_tier_valuable and new_tier > st.tier and (
                ctx.window[1] <= (1 - rule.min_spend_drop) * st.tier_peak):
            reasons.append(Reason("value_tier_dropped",
                                  f"value tier fell from {TIERS[st.tier]} to {tier}"))
        if not reasons:
            return None
        return Finding(
            signal=self.name,
            key=f"{int(ctx.now)}:{segment}:{tier}",
            severity=tiered("high", ctx) if old_tier_valuable else "medium",
            reasons=tuple(reasons),
            evidence={"from_segment": old_segment, "to_segment": segment,
                      "peak_spend_in_tier": st.tier_peak / 100,
                      "from_tier": TIERS[st.tier], "to_tier": tier,
                      "population_mean_recency_days": round(
                          (ctx.now + ctx.view.shift(ctx.now) - ctx.view.mean_last) / 86_400, 1),
                      "population_mean_frequency": round(ctx.view.mean_f, 3),
                      "population_mean_monetary": round(ctx.view.mean_m / 100, 2)},
        )
