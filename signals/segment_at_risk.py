"""A valuable customer moves into important-retain (重要挽留: R up, F up, M up) or drops a
value tier.

Compares the segment and tier of this moment with the ones recorded at the customer's
previous item, so it fires on the move, not on every look at a customer already there.
A tier drop counts only when the customer's own rolling spend fell: a tier lost because
other customers grew says nothing about this customer drifting away.
"""

from __future__ import annotations

from models.rfm import SEGMENT_CODES, TIERS
from signals.base import Context, Finding, Reason, Signal, tiered

RETAIN = "important-retain"
MIN_POPULATION = 50
"""Below this many buying customers, means and tiers are too noisy to act on."""


class SegmentAtRisk(Signal):
    name = "segment_at_risk"

    def evaluate(self, ctx: Context) -> Finding | None:
        st, rfm = ctx.state, ctx.rfm
        if ctx.view.n < MIN_POPULATION or st.segment < 0 or st.tier < 0:
            return None
        valuable = {TIERS.index(t) for t in ctx.settings.segment_at_risk.valuable_tiers}
        old_segment = list(SEGMENT_CODES)[st.segment] if st.segment < len(SEGMENT_CODES) else ""
        new_tier = TIERS.index(rfm.tier)
        reasons = []
        if rfm.segment == RETAIN and old_segment != RETAIN and (
                st.tier in valuable or new_tier in valuable):
            reasons.append(Reason("moved_to_important_retain",
                                  f"moved from {old_segment} to {RETAIN}: frequent, "
                                  "high-spending and now silent longer than most"))
        own_spend_fell = bool(st.contribution) and ctx.window[1] < st.contribution[2]
        if st.tier in valuable and new_tier > st.tier and own_spend_fell:
            reasons.append(Reason("value_tier_dropped",
                                  f"value tier fell from {TIERS[st.tier]} to {rfm.tier}"))
        if not reasons:
            return None
        return Finding(
            signal=self.name,
            key=f"{int(ctx.now)}:{rfm.segment}:{rfm.tier}",
            severity=tiered("high", ctx) if st.tier in valuable else "medium",
            reasons=tuple(reasons),
            evidence={"from_segment": old_segment, "to_segment": rfm.segment,
                      "from_tier": TIERS[st.tier], "to_tier": rfm.tier,
                      "population_mean_recency_days": round(
                          (ctx.now - ctx.view.mean_last) / 86_400, 1),
                      "population_mean_frequency": round(ctx.view.mean_f, 3),
                      "population_mean_monetary": round(ctx.view.mean_m / 100, 2)},
        )
