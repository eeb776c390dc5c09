"""Voice of the customer: a satisfaction / NPS answer in the detractor range (0-6)."""

from __future__ import annotations

from churnwatch.models.events import Survey
from churnwatch.signals.base import Context, Finding, Reason, Signal, tiered


class NpsDetractor(Signal):
    name = "nps_detractor"
    reads = (Survey,)

    def evaluate(self, ctx: Context) -> Finding | None:
        s, limit = ctx.trigger, ctx.settings.nps_detractor.max_score
        if not isinstance(s, Survey) or s.score > limit:
            return None
        return Finding(
            signal=self.name,
            key=s.event_id,
            severity=tiered("high" if s.score <= 3 else "medium", ctx),
            reasons=(Reason("nps_detractor", f"survey score {s.score}/10 (detractor: 0-{limit})"),),
            evidence={"score": s.score, "detractor_max": limit},
        )
