"""Turns a governed :class:`~churnwatch.signals.base.Finding` into the public alert envelope."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from churnwatch.engine.scoring import Scorer
from churnwatch.models.alert import (
    Alert,
    AlertData,
    Reason,
    RecommendedAction,
    Rfm,
    Trigger,
    alert_type,
)
from churnwatch.models.rfm import RESPOND_HOURS, respond_within
from churnwatch.signals.actions import recommend
from churnwatch.signals.base import Context, Finding


def alert_id(customer_id: str, signal: str, key: str) -> str:
    """128-bit hex digest of what triggered the alert: same trigger, same id."""
    digest = hashlib.sha256(f"{customer_id}\x1f{signal}\x1f{key}".encode()).hexdigest()
    return digest[:32]


def build_alert(finding: Finding, ctx: Context, source: str, scorer: Scorer) -> Alert:
    """The alert, with the risk's strongest drivers appended to the signal's reasons
    (codes ``risk.<feature>``) and the model version in the evidence."""
    rfm = ctx.rfm
    when = datetime.fromtimestamp(ctx.now, UTC)
    score = scorer.assess(ctx.state, ctx.now)
    reasons = [Reason(code=r.code, text=r.text) for r in finding.reasons]
    reasons += [Reason(code=f"risk.{name}", text=f"{shown}: raises risk by {part:.2f} log-odds")
                for name, shown, part in score.drivers]
    action = recommend(finding.signal, rfm.tier, rfm.segment)
    trigger = ctx.trigger
    return Alert(
        id=alert_id(ctx.customer_id, finding.signal, finding.key),
        source=source,
        type=alert_type(finding.signal),
        subject=ctx.customer_id,
        time=when,
        data=AlertData(
            signal=finding.signal,
            severity=finding.severity,
            reasons=reasons,
            evidence={**finding.evidence, "risk_model": scorer.version},
            rfm=Rfm(recency_days=rfm.recency_days, frequency=rfm.frequency,
                    monetary=rfm.monetary, r_score=rfm.r_score, f_score=rfm.f_score,
                    m_score=rfm.m_score, segment=rfm.segment),
            tier=rfm.tier,
            respond_within=respond_within(rfm.tier),
            respond_by=when + timedelta(hours=RESPOND_HOURS[rfm.tier]),
            as_of=when,
            risk_horizon_days=scorer.horizon_days,
            p_alive=score.p_alive,
            risk=score.risk,
            value_at_risk=score.value_at_risk,
            recommended_action=RecommendedAction(code=action.code, channel=action.channel,
                                                 text=action.text),
            trigger=Trigger(kind="time") if trigger is None else Trigger(
                kind="event", event_id=trigger.event_id),
        ),
    )
