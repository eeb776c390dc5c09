"""社群发言积极性下降: visits and community posts fall far below the customer's own baseline.

Two exponentially decayed counters give a recent and a baseline rate. With no new activity
both decay, the recent one faster, so the moment the recent rate falls under
``ratio x baseline`` has a closed form. A Poisson guard asks, in addition, that the silence
since the last activity be long enough for the baseline to predict ``min_expected_missing``
visits in it, so chance gaps of sparse visitors are not flagged. The later of the two
moments is this signal's deadline: silence is detected when event time reaches it, without
waiting for the customer to act.
"""

from __future__ import annotations

import math

from churnwatch.models.state import DAY, CustomerState
from churnwatch.signals.base import TIME, Context, Finding, Reason, Signal, days, tiered
from churnwatch.signals.detection import DetectionSettings, EngagementDropSettings


def _dropped(state: CustomerState, now: float, rule: EngagementDropSettings
             ) -> tuple[float, float] | None:
    """(recent rate, baseline rate) per day as of ``now`` if engagement has dropped, else
    None.

    The baseline requirement is judged at the last activity: silence itself lowers the
    decayed baseline, and a customer who *was* active must not escape by staying away.
    The cheap tests go first: this runs at every item, mostly to say no.
    """
    baseline_then = _baseline_then(state, rule)
    if not (baseline_then * 30 >= rule.min_baseline_per_30d
            and (now - state.eng_at) / DAY * baseline_then >= rule.min_expected_missing
            and now - state.eng_since >= rule.min_history_days * DAY):
        return None
    recent, baseline = state.engagement_rates(
        now, rule.recent_half_life_days, rule.baseline_half_life_days)
    return (recent, baseline) if recent < rule.ratio * baseline else None


def _baseline_then(state: CustomerState, rule: EngagementDropSettings) -> float:
    """Baseline visits+posts per day at the last activity: the decayed counter as it was
    left then (``engagement_rates`` at ``eng_at``, where the decay factor is exactly 1)."""
    return state.eng_slow * (math.log(2) / (rule.baseline_half_life_days * DAY)) * DAY


class EngagementDrop(Signal):
    name = "engagement_drop"
    reads = (TIME,)
    timed = True

    def evaluate(self, ctx: Context) -> Finding | None:
        st, rule = ctx.state, ctx.settings.engagement_drop
        if ctx.trigger is not None or not st.eng_at:
            return None
        if st.fired.get(self.code, 0) >= st.eng_at:
            return None  # already alerted for this lull; a new visit re-arms it
        rates = _dropped(st, ctx.now, rule)
        if rates is None:
            return None
        recent, baseline = rates
        return Finding(
            signal=self.name,
            key=str(st.eng_at),
            severity=tiered("medium", ctx),
            reasons=(Reason("engagement_below_baseline",
                            f"visits and posts at {recent * 30:.1f} per 30 days against a "
                            f"baseline of {baseline * 30:.1f} (threshold {rule.ratio:.0%})"),),
            evidence={"recent_per_30d": round(recent * 30, 3),
                      "baseline_per_30d": round(baseline * 30, 3), "threshold": rule.ratio,
                      "days_since_last_activity": days(ctx.now - st.eng_at)},
        )

    def deadline(self, state: CustomerState, settings: DetectionSettings) -> int:
        """The engine asks at every item of the customer's, and the answer changes only
        with a visit or post (or once it fired): it is kept with the counters it came
        from. On a generated log the deadlines were a sixth of replay's instructions, this
        one over half of them."""
        rule = settings.engagement_drop
        at = state.eng_at
        if not at or state.fired.get(self.code, 0) >= at:
            return 0
        fast, slow, since = state.eng_fast, state.eng_slow, state.eng_since
        memo = state.lull_due
        if memo is not None and memo[0] is rule and memo[1] == at and memo[2] == fast and (
                memo[3] == slow and memo[4] == since):
            return int(memo[5])
        when = _lull_ends(state, rule)
        state.lull_due = (rule, at, fast, slow, since, when)
        return when


def _lull_ends(state: CustomerState, rule: EngagementDropSettings) -> int:
    """When the lull after the last visit or post counts as a drop, if it will (0: never
    without a new visit): the later of the rates' crossing and the Poisson guard."""
    lf = math.log(2) / (rule.recent_half_life_days * DAY)
    ls = math.log(2) / (rule.baseline_half_life_days * DAY)
    fast, slow = state.eng_fast * lf, state.eng_slow * ls
    if lf <= ls or slow <= 0:
        return 0
    cross = math.log(fast / (rule.ratio * slow)) / (lf - ls) if fast > rule.ratio * slow else 0
    silence = rule.min_expected_missing / _baseline_then(state, rule) * DAY
    when = max(state.eng_at + cross, state.eng_at + silence,
               state.eng_since + rule.min_history_days * DAY)
    when = math.ceil(when) + 1  # a second past the crossing, clear of rounding
    return when if _dropped(state, when, rule) is not None else 0
