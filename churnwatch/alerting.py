"""Turns a governed :class:`~signals.base.Finding` into the public alert envelope."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from models.alert import (
    Alert,
    AlertData,
    Reason,
    RecommendedAction,
    Rfm,
    Trigger,
    alert_type,
)
from models.clv import MbgNbdParams, p_alive
from models.rfm import RESPOND_HOURS, RfmSnapshot, respond_within
from models.state import CustomerState
from signals.actions import recommend
from signals.base import Context, Finding


def alert_id(customer_id: str, signal: str, key: str) -> str:
    """128-bit hex digest of what triggered the alert: same trigger, same id."""
    digest = hashlib.sha256(f"{customer_id}\x1f{signal}\x1f{key}".encode()).hexdigest()
    return digest[:32]


def risk_numbers(state: CustomerState, rfm: RfmSnapshot, now: float,
                 params: MbgNbdParams) -> tuple[float, float, float]:
    """(p_alive, risk, value_at_risk): risk is 1 - P(alive); value at risk is the risk times
    the customer's spend over the rolling window (a year by default)."""
    alive = p_alive(state.orders, state.first_order, state.last_order, now, params)
    risk = 1.0 - alive
    return round(alive, 4), round(risk, 4), round(risk * rfm.monetary, 2)


def build_alert(finding: Finding, ctx: Context, source: str, params: MbgNbdParams) -> Alert:
    rfm = ctx.rfm
    when = datetime.fromtimestamp(ctx.now, UTC)
    alive, risk, var = risk_numbers(ctx.state, rfm, ctx.now, params)
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
            reasons=[Reason(code=r.code, text=r.text) for r in finding.reasons],
            evidence=finding.evidence,
            rfm=Rfm(recency_days=rfm.recency_days, frequency=rfm.frequency,
                    monetary=rfm.monetary, r_score=rfm.r_score, f_score=rfm.f_score,
                    m_score=rfm.m_score, segment=rfm.segment),
            tier=rfm.tier,
            respond_within=respond_within(rfm.tier),
            respond_by=when + timedelta(hours=RESPOND_HOURS[rfm.tier]),
            p_alive=alive,
            risk=risk,
            value_at_risk=var,
            recommended_action=RecommendedAction(code=action.code, channel=action.channel,
                                                 text=action.text),
            trigger=Trigger(kind="time") if trigger is None else Trigger(
                kind="event", event_id=trigger.event_id),
        ),
    )
