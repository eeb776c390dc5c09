"""Turns a governed :class:`~churnwatch.signals.base.Finding` into the public alert envelope.

The engine emits :class:`AlertOut`: the contract's document as plain JSON values, built
without validation and serialized by orjson. Building and serializing the pydantic
:class:`~churnwatch.models.alert.Alert` cost about half of an alert's time outside its
scores; the model stays the contract's schema and the Python API's type (``model``), and
tests hold the two byte for byte together (tests/engine/test_alerting.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from churnwatch.engine.scoring import Scorer
from churnwatch.models.alert import Alert, alert_type, rfc3339, rfc3339_seconds
from churnwatch.models.rfm import RESPOND_HOURS, respond_within
from churnwatch.signals.actions import recommend
from churnwatch.signals.base import Context, Finding


def alert_id(customer_id: str, signal: str, key: str) -> str:
    """128-bit hex digest of what triggered the alert: same trigger, same id."""
    digest = hashlib.sha256(f"{customer_id}\x1f{signal}\x1f{key}".encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True, slots=True)
class AlertOut:
    """One alert: ``doc`` in the field order and with the value types of
    :class:`~churnwatch.models.alert.Alert`, and what the engine and the worker route on."""

    id: str
    subject: str
    signal: str
    tier: str
    time: float
    respond_by: float
    doc: dict[str, Any]

    def json(self) -> bytes:
        """The structured CloudEvent, byte for byte what ``Alert.model_dump_json`` writes."""
        return orjson.dumps(self.doc)

    def data_json(self) -> bytes:
        """``data`` alone (the value of a binary-mode record)."""
        return orjson.dumps(self.doc["data"])

    def model(self) -> Alert:
        """The validated model, for the Python API."""
        return Alert.model_validate(self.doc)


def build_alert(finding: Finding, ctx: Context, source: str, scorer: Scorer) -> AlertOut:
    """The alert, with the risk's strongest drivers appended to the signal's reasons
    (codes ``risk.<feature>``) and the model version in the evidence."""
    rfm = ctx.rfm
    at, respond_by, by = _times(ctx.now, RESPOND_HOURS[rfm.tier])
    score = scorer.assess(ctx.state, ctx.now)
    reasons = [{"code": r.code, "text": r.text} for r in finding.reasons]
    reasons += [{"code": f"risk.{name}", "text": f"{shown}: raises risk by {part:.2f} log-odds"}
                for name, shown, part in score.drivers]
    action = recommend(finding.signal, rfm.tier, rfm.segment)
    trigger = ctx.trigger
    ident = alert_id(ctx.customer_id, finding.signal, finding.key)
    doc = {
        "specversion": "1.0",
        "id": ident,
        "source": source,
        "type": alert_type(finding.signal),
        "subject": ctx.customer_id,
        "time": at,
        "datacontenttype": "application/json",
        "data": {
            "signal": finding.signal,
            "severity": finding.severity,
            "reasons": reasons,
            "evidence": {**finding.evidence, "risk_model": scorer.version},
            "rfm": {"recency_days": rfm.recency_days, "frequency": rfm.frequency,
                    "monetary": rfm.monetary, "r_score": rfm.r_score, "f_score": rfm.f_score,
                    "m_score": rfm.m_score, "segment": rfm.segment},
            "tier": rfm.tier,
            "respond_within": respond_within(rfm.tier),
            "respond_by": by,
            "as_of": at,
            "risk_horizon_days": scorer.horizon_days,
            "p_alive": score.p_alive,
            "risk": score.risk,
            "value_at_risk": score.value_at_risk,
            "recommended_action": {"code": action.code, "channel": action.channel,
                                   "text": action.text},
            "trigger": {"kind": "time", "event_id": None} if trigger is None else
                       {"kind": "event", "event_id": trigger.event_id},
        },
    }
    return AlertOut(ident, ctx.customer_id, finding.signal, rfm.tier, ctx.now, respond_by, doc)


def _times(now: float, hours: int) -> tuple[str, float, str]:
    """The alert's time as text, and its respond-by time and text. Whole seconds (nearly
    every alert) by arithmetic; others through datetime, whose microsecond rounding the
    published times have always had."""
    if now == int(now):
        respond_by = now + hours * 3600
        return rfc3339_seconds(now), respond_by, rfc3339_seconds(respond_by)
    when = datetime.fromtimestamp(now, UTC)
    by = when + timedelta(hours=hours)
    return rfc3339(when), by.timestamp(), rfc3339(by)
