"""从小问题投诉升级为"要求退费/换货": complaints escalate into a refund or exchange demand."""

from __future__ import annotations

from churnwatch.models.events import Complaint
from churnwatch.models.state import DEMAND_RANK, SEVERITY_RANK, id_hash
from churnwatch.signals.base import Context, Finding, Reason, Signal, days, tiered

_NAMES = {0: "inquiry", 1: "minor", 2: "major"}


class ComplaintEscalated(Signal):
    name = "complaint_escalated"
    reads = (Complaint,)

    def evaluate(self, ctx: Context) -> Finding | None:
        c = ctx.trigger
        if not isinstance(c, Complaint) or SEVERITY_RANK[c.severity] < DEMAND_RANK:
            return None
        key = id_hash(c.ticket_id)
        if any(t[0] == key and t[1] >= DEMAND_RANK for t in ctx.before.tickets):
            return None  # this ticket was already a demand: not a new escalation
        since = ctx.now - ctx.settings.complaint_escalated.lookback_days * 86_400
        prior = [t for t in ctx.before.tickets
                 if t[1] < DEMAND_RANK and (t[0] == key or t[2] >= since)]
        if not prior:
            return None
        worst = max(prior, key=lambda t: (t[1], t[2]))
        same_ticket = worst[0] == key
        return Finding(
            signal=self.name,
            key=c.event_id,
            severity=tiered("high", ctx),
            reasons=(Reason("complaint_escalated_to_demand",
                            f"{_NAMES[worst[1]]} complaint escalated to {c.severity}"
                            + (" on the same ticket" if same_ticket else "")),),
            evidence={"demand": c.severity, "prior_severity": _NAMES[worst[1]],
                      "same_ticket": same_ticket,
                      "days_since_prior_complaint": days(ctx.now - worst[2]),
                      "open_tickets_seen": len(ctx.state.tickets)},
        )
