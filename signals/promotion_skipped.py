"""连续2次不参与促销: offered promotions expired, one after another, without a redemption."""

from __future__ import annotations

from churnwatch.models.state import CustomerState
from churnwatch.signals.base import Context, Finding, Reason, Signal, tiered
from churnwatch.signals.detection import DetectionSettings


class PromotionSkipped(Signal):
    name = "promotion_skipped"
    timed = True

    def evaluate(self, ctx: Context) -> Finding | None:
        k = ctx.settings.promotion_skipped.consecutive
        before, after = ctx.before.skips, ctx.state.skips
        if after < k or after // k <= before // k:
            return None  # fires each time another run of k skips completes
        return Finding(
            signal=self.name,
            key=f"{int(ctx.now)}:{after}",
            severity=tiered("medium", ctx),
            reasons=(Reason("promotions_expired_unredeemed",
                            f"{after} offered promotions in a row expired without an order"),),
            evidence={"consecutive_skips": after, "threshold": k,
                      "offers_still_open": len(ctx.state.promos)},
        )

    def deadline(self, state: CustomerState, settings: DetectionSettings) -> int:
        return min((p[1] for p in state.promos), default=0)
