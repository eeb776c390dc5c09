"""Input events exactly as docs/CONTRACT.md defines them.

Validation is strict where the contract is: ids must be non-blank, timestamps must be
RFC 3339 *with* an offset (a naive time cannot be placed on the event-time axis), numbers
must be JSON numbers (not strings), and sizes must be sane. Unknown extra fields are
ignored so that upstream producers can add fields without breaking the detector.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any, Literal, get_args

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

EVENT_SCHEMA_VERSION = "v1"
MAX_EVENT_BYTES = 16 * 1024
"""Anything larger is not a plausible event; refusing it bounds memory per message."""

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(value: Any) -> datetime:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 timestamp with an offset, e.g. 2024-05-01T12:00:00Z")
    text = value
    frac = re.search(r"\.(\d+)", text)
    if frac and len(frac.group(1)) > 6:  # Python keeps microseconds; drop finer digits
        text = text[: frac.start(1) + 6] + text[frac.end(1) :]
    return datetime.fromisoformat(text)


Timestamp = Annotated[
    datetime,
    BeforeValidator(parse_rfc3339),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
_CONTROL = "\x00-\x1f\x7f-\x9f\u2028\u2029"
"""C0 and C1 control characters, DEL and the Unicode line and paragraph separators."""
_HAS_CONTROL = re.compile(f"[{_CONTROL}]")


def _printable(value: Any) -> Any:
    """Ids become Kafka keys, alert subjects and lines in other systems' files: a NUL, a
    bell or a line break in one splits or corrupts them downstream."""
    if not isinstance(value, str):
        return value  # the type check says why
    if found := _HAS_CONTROL.search(value):
        raise ValueError(f"must not contain control characters (found U+{ord(found[0]):04X})")
    if value and not value.strip():  # (an empty one: the length check says so)
        raise ValueError("must not be blank")
    return value


Id = Annotated[str, StringConstraints(
    min_length=1, max_length=128, pattern=f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"),
    BeforeValidator(_printable)]
"""Non-blank, printable, at most 128 characters."""
Label = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=False)

    event_id: Id
    customer_id: Id
    occurred_at: Timestamp

    @cached_property
    def ts(self) -> float:
        """Event time as POSIX seconds: the one time axis all logic runs on."""
        return self.occurred_at.timestamp()

    @cached_property
    def stored(self) -> bytes:
        """The event as a customer state stores it while it is pending. Made once: a
        worker writes a state at every flush that touches it, and re-serializing every
        pending event each time was a fifth of a backlogged worker's CPU."""
        return self.model_dump_json().encode()


class Order(_Event):
    kind: Literal["order"]
    order_id: Id
    amount: float = Field(ge=0, le=1e9, strict=True, allow_inf_nan=False)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    items: int | None = Field(None, ge=1, le=100_000, strict=True)
    promotion_id: Id | None = None
    status: Literal["placed", "cancelled", "refunded"] = "placed"


class _Engagement(_Event):
    kind: Literal["engagement"]


class Visit(_Engagement):
    action: Literal["visit"]


class CommunityPost(_Engagement):
    action: Literal["community_post"]


class ChannelChange(_Engagement):
    action: Literal["follow", "unfollow", "subscribe", "unsubscribe"]
    channel: Label | None = None


class PromotionOffered(_Engagement):
    action: Literal["promotion_offered"]
    promotion_id: Id
    expires_at: Timestamp

    @model_validator(mode="after")
    def _expires_after_offer(self) -> PromotionOffered:
        if self.expires_at <= self.occurred_at:
            raise ValueError("expires_at must be after occurred_at")
        return self


class Survey(_Engagement):
    action: Literal["survey"]
    score: int = Field(ge=0, le=10, strict=True)


Engagement = Annotated[
    Visit | CommunityPost | ChannelChange | PromotionOffered | Survey,
    Field(discriminator="action"),
]


class Complaint(_Event):
    kind: Literal["complaint"]
    ticket_id: Id
    severity: Literal["inquiry", "minor", "major", "refund_request", "exchange_request"]
    status: Literal["opened", "updated", "resolved"] = "opened"
    category: Label | None = None


class ActionTaken(_Event):
    """Marketing automation reporting what it did about an alert: closes the loop
    (follow-up and attribution). An action for an alert churnwatch does not
    know is accepted: it may predate a restart of the campaign system, or an upgrade."""

    kind: Literal["action"]
    alert_id: Id
    action: Label = Field(description="what was done: contacted, offer_sent, call_back, "
                                      "no_action, or the team's own word")
    channel: Label | None = None
    offer_cost: float | None = Field(None, ge=0, le=1e9, strict=True, allow_inf_nan=False)


Event = Annotated[Order | Engagement | Complaint | ActionTaken, Field(discriminator="kind")]
AnyEvent = (Order | Visit | CommunityPost | ChannelChange | PromotionOffered | Survey | Complaint
            | ActionTaken)

EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)


class InvalidEvent(ValueError):
    """Raised with a one-line reason a person can act on."""


def parse_event(raw: bytes | str, kind: str | None = None) -> AnyEvent:
    """Validate one JSON event. ``kind`` fills in a missing discriminator (one topic per kind)."""
    size = len(raw)
    if size > MAX_EVENT_BYTES:
        raise InvalidEvent(f"event is {size} bytes, more than the limit of {MAX_EVENT_BYTES}")
    try:
        if kind is None:
            return EVENT_ADAPTER.validate_json(raw)
        data = _json_object(raw)
        data.setdefault("kind", kind)
        if data["kind"] != kind:
            raise InvalidEvent(f"kind {data['kind']!r} arrived on the {kind!r} topic")
        return EVENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise InvalidEvent(describe(exc)) from None


def _json_object(raw: bytes | str) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidEvent("an event must be a JSON object")
    return data


def describe(exc: ValidationError) -> str:
    """Compress pydantic's error list into one line: ``field: message; field: message``."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in _without_tags(err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "union_tag_not_found":  # pydantic: "Unable to extract tag ..."
            tag = str(err.get("ctx", {}).get("discriminator", "")).strip("'")
            known = KINDS if tag == "kind" else _ENGAGEMENTS
            msg = f"{tag}: missing (one of {', '.join(known)})"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def _tags(field: str, *models: type[_Event]) -> tuple[str, ...]:
    """The values a union's discriminator takes, read from the models' Literal types."""
    return tuple(tag for model in models
                 for tag in get_args(model.model_fields[field].annotation))


KINDS = _tags("kind", Order, _Engagement, Complaint, ActionTaken)
"""Every event kind, in the order of the contract (docs/CONTRACT.md)."""
_ENGAGEMENTS = _tags("action", Visit, CommunityPost, ChannelChange, PromotionOffered, Survey)


def _without_tags(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The field path without the union tags pydantic puts first: the kind, then for an
    engagement its action (a field named ``action`` further in stays)."""
    if loc and loc[0] in KINDS:
        kind, loc = loc[0], loc[1:]
        if kind == "engagement" and loc and loc[0] in _ENGAGEMENTS:
            loc = loc[1:]
    return loc
