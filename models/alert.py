"""The alert: a CloudEvents 1.0 envelope in structured JSON mode (docs/CONTRACT.md).

``type`` carries the signal and the schema version, e.g. ``io.churnwatch.alert.gone_quiet.v2``;
``id`` is a deterministic hash of the customer, the signal and the trigger, so it doubles as
the consumer's idempotency key: a replay or a redelivery yields the same id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from churnwatch.models.vocabulary import Severity, SignalName, Tier

SCHEMA_VERSION = "v2"
"""Of what churnwatch writes (alerts, customer lines). v2 over v1: ``as_of`` and
``risk_horizon_days`` say what ``risk`` is the probability of, and the scores are null for
a customer who never bought instead of being made up (CHANGELOG.md, docs/CONTRACT.md)."""
TYPE_PREFIX = "io.churnwatch"

def rfc3339(moment: datetime) -> str:
    """UTC with a Z, microseconds only when there are any: how every time is written."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAYS: dict[int, str] = {}  # day since 1970 -> its "YYYY-MM-DDT": a log spans a few thousand


def rfc3339_seconds(seconds: float) -> str:
    """``rfc3339`` of a POSIX time, the same text without a datetime for whole seconds
    (deadlines, and event times with no fraction: every alert writes two)."""
    whole = int(seconds)
    if whole != seconds or whole < 0:
        return rfc3339(datetime.fromtimestamp(seconds, UTC))
    day, rest = divmod(whole, 86_400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%dT")
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{date}{hours:02d}:{minutes:02d}:{secs:02d}Z"


UtcTime = Annotated[datetime, PlainSerializer(rfc3339, return_type=str)]


_UNSCORED = "null for a customer who never bought (segment 'prospect')"
# The fields alerts and customer lines share: what the scores are and when they held.
AsOf = Annotated[UtcTime, Field(description="event time the RFM values and the scores "
                                            "describe (an alert's time)")]
HorizonDays = Annotated[float, Field(gt=0, description="risk is P(no purchase within this "
                                                       "many days after as_of)")]
Probability = Annotated[float | None, Field(ge=0, le=1, description=_UNSCORED)]
ValueAtRisk = Annotated[float | None, Field(
    ge=0, description="expected value lost if the customer churns; " + _UNSCORED)]


class _Frozen(BaseModel):
    # every field is written, defaults included: the published schema says so
    model_config = ConfigDict(frozen=True, extra="forbid",
                              json_schema_serialization_defaults_required=True)


class Reason(_Frozen):
    code: str = Field(description="machine-readable reason code")
    text: str = Field(description="the same reason for a person")


class Rfm(_Frozen):
    recency_days: float | None = Field(description="days since the last purchase; null if none")
    frequency: int = Field(description="purchases in the rolling window")
    monetary: float = Field(description="spend in the rolling window, shop currency")
    r_score: int = Field(ge=1, le=5)
    f_score: int = Field(ge=1, le=5)
    m_score: int = Field(ge=1, le=5)
    segment: str = Field(description="RFM segment of DOMAIN.md, or 'prospect' if never bought")


class RecommendedAction(_Frozen):
    code: str
    channel: str
    text: str


class Trigger(_Frozen):
    kind: Literal["event", "time"] = Field(
        description="an arriving event, or event time passing a deadline")
    event_id: str | None = None


class AlertData(_Frozen):
    signal: SignalName
    severity: Severity
    reasons: list[Reason]
    evidence: dict[str, float | int | str | bool | None]
    rfm: Rfm
    tier: Tier
    respond_within: str = Field(description="ISO 8601 duration of the tier's service level")
    respond_by: UtcTime = Field(description="time + respond_within")
    as_of: AsOf
    risk_horizon_days: HorizonDays
    p_alive: Probability
    risk: Probability
    value_at_risk: ValueAtRisk
    recommended_action: RecommendedAction
    trigger: Trigger


class Alert(_Frozen):
    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="deterministic; use as the idempotency key")
    source: str
    type: str = Field(pattern=r"^io\.churnwatch\.(alert\.[a-z_]+|recovered)\.v\d+$")
    subject: str = Field(description="the customer_id")
    time: UtcTime = Field(description="event time of the trigger")
    datacontenttype: Literal["application/json"] = "application/json"
    data: AlertData


def alert_type(signal: str) -> str:
    if signal == "recovered":
        return f"{TYPE_PREFIX}.recovered.{SCHEMA_VERSION}"
    return f"{TYPE_PREFIX}.alert.{signal}.{SCHEMA_VERSION}"
