"""No purchase for much longer than this customer's usual gap, or than an absolute limit.

Fires when event time passes ``last order + quiet period``, even if the customer never
sends another event. One alert per silence: a new order starts a new one.
"""

from __future__ import annotations

from churnwatch.models.state import DAY, CustomerState
from churnwatch.signals.base import TIME, Context, Finding, Reason, Signal, days, tiered
from churnwatch.signals.detection import DetectionSettings


def quiet_after(state: CustomerState, settings: DetectionSettings) -> float:
    """Seconds of silence that count as gone quiet for this customer."""
    rule = settings.gone_quiet
    gap = state.mean_gap()
    if state.orders < rule.min_orders or gap <= 0:
        return rule.absolute_days * DAY
    by_gap = rule.gap_factor * gap
    return min(max(by_gap, rule.floor_days * DAY), rule.absolute_days * DAY)


class GoneQuiet(Signal):
    name = "gone_quiet"
    reads = (TIME,)
    timed = True

    def evaluate(self, ctx: Context) -> Finding | None:
        st = ctx.state
        if ctx.trigger is not None or not st.last_order:
            return None
        if st.fired.get(self.code, 0) >= st.last_order:
            return None
        limit = quiet_after(st, ctx.settings)
        silent = ctx.now - st.last_order
        if silent < limit:
            return None
        gap = st.mean_gap()
        by_gap = st.orders >= ctx.settings.gone_quiet.min_orders and gap > 0
        reason = (
            Reason("silent_beyond_usual_gap",
                   f"no purchase for {days(silent)} days; usually every {days(gap)} days")
            if by_gap and limit < ctx.settings.gone_quiet.absolute_days * DAY
            else Reason("silent_beyond_absolute_limit",
                        f"no purchase for {days(silent)} days (limit {days(limit)} days)")
        )
        return Finding(
            signal=self.name,
            key=str(st.last_order),
            severity=tiered("medium", ctx),
            reasons=(reason,),
            evidence={"days_silent": days(silent), "threshold_days": days(limit),
                      "usual_gap_days": days(gap) if gap else None,
                      "lifetime_orders": st.orders},
        )

    def deadline(self, state: CustomerState, settings: DetectionSettings) -> int:
        if not state.last_order or state.fired.get(self.code, 0) >= state.last_order:
            return 0
        return state.last_order + int(quiet_after(state, settings))
