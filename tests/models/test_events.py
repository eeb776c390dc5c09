import re

import orjson
import pytest

from churnwatch.models.events import (
    MAX_EVENT_BYTES,
    InvalidEvent,
    Order,
    PromotionOffered,
    parse_event,
)

BASE = {"event_id": "e1", "customer_id": "c1", "occurred_at": "2024-05-01T12:00:00+08:00"}


def raw(**fields: object) -> bytes:
    return orjson.dumps({**BASE, **fields})


def test_each_kind_parses() -> None:
    assert isinstance(parse_event(raw(kind="order", order_id="o", amount=9.5)), Order)
    offer = parse_event(raw(kind="engagement", action="promotion_offered", promotion_id="p",
                            expires_at="2024-05-10T00:00:00Z"))
    assert isinstance(offer, PromotionOffered)
    assert parse_event(raw(kind="complaint", ticket_id="t", severity="minor")).status == "opened"


def test_offset_is_kept_on_the_event_time_axis() -> None:
    e = parse_event(raw(kind="engagement", action="visit"))
    assert e.ts == parse_event(orjson.dumps({**BASE, "kind": "engagement", "action": "visit",
                                             "occurred_at": "2024-05-01T04:00:00Z"})).ts


def test_missing_kind_is_filled_in_from_the_topic() -> None:
    body = orjson.dumps({**BASE, "order_id": "o", "amount": 1})
    assert parse_event(body, kind="order").kind == "order"
    with pytest.raises(InvalidEvent, match="arrived on the 'complaint' topic"):
        parse_event(raw(kind="order", order_id="o", amount=1), kind="complaint")


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    assert parse_event(raw(kind="engagement", action="visit", device="ios")).kind == "engagement"


@pytest.mark.parametrize(("fields", "reason"), [
    ({"kind": "order", "order_id": "o", "amount": 1, "event_id": ""}, "event_id"),
    ({"kind": "order", "order_id": "o", "amount": 1, "customer_id": "   "}, "customer_id"),
    ({"kind": "order", "order_id": "o", "amount": 1, "customer_id": "x" * 129}, "customer_id"),
    ({"kind": "order", "order_id": "o"}, "amount"),
    ({"kind": "order", "order_id": "o", "amount": -0.01}, "amount"),
    ({"kind": "order", "order_id": "o", "amount": "12.00"}, "amount"),
    ({"kind": "order", "order_id": "o", "amount": 1e12}, "amount"),
    ({"kind": "order", "order_id": "o", "amount": 1, "items": 0}, "items"),
    ({"kind": "order", "order_id": "o", "amount": 1, "currency": "euro"}, "currency"),
    ({"kind": "order", "order_id": "o", "amount": 1, "status": "lost"}, "status"),
    ({"kind": "order", "order_id": "o", "amount": 1, "occurred_at": "2024-05-01T12:00:00"},
     "RFC 3339"),
    ({"kind": "order", "order_id": "o", "amount": 1, "occurred_at": 1714564800}, "RFC 3339"),
    ({"kind": "order", "order_id": "o", "amount": 1, "occurred_at": "2024-05-01"}, "RFC 3339"),
    ({"kind": "engagement", "action": "dance"}, "dance"),
    ({"kind": "engagement", "action": "survey", "score": 11}, "score"),
    ({"kind": "engagement", "action": "survey", "score": 7.5}, "score"),
    ({"kind": "engagement", "action": "promotion_offered", "promotion_id": "p"}, "expires_at"),
    ({"kind": "engagement", "action": "promotion_offered", "promotion_id": "p",
      "expires_at": "2024-04-01T00:00:00Z"}, "expires_at must be after"),
    ({"kind": "complaint", "ticket_id": "t", "severity": "furious"}, "severity"),
    ({"kind": "refund"}, "kind"),
])
def test_invalid_events_are_rejected_with_a_reason(fields: dict, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        parse_event(raw(**fields))


@pytest.mark.parametrize(("fields", "reason"), [
    ({"type": "order", "order_id": "o", "amount": 1},
     "kind: missing (one of order, engagement, complaint, action)"),
    ({"kind": "engagement"}, "action: missing (one of visit, community_post, follow,"),
])
def test_a_missing_tag_is_named_with_what_it_may_be(fields: dict, reason: str) -> None:
    """Before: pydantic's "Unable to extract tag using discriminator 'kind'" for an event
    that said ``type`` instead of ``kind``."""
    with pytest.raises(InvalidEvent) as refused:
        parse_event(raw(**fields))
    assert str(refused.value).startswith(reason)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"{"])
def test_non_objects_are_rejected(body: bytes) -> None:
    with pytest.raises(InvalidEvent):
        parse_event(body)


def test_absurdly_large_events_are_rejected_before_parsing() -> None:
    body = raw(kind="engagement", action="visit", padding="x" * MAX_EVENT_BYTES)
    with pytest.raises(InvalidEvent, match="bytes, more than the limit"):
        parse_event(body)


@pytest.mark.parametrize("field", ["event_id", "customer_id", "order_id", "promotion_id"])
@pytest.mark.parametrize(("value", "found"), [
    ("c\x00\x07\n", "U+0000"), ("line\nbreak", "U+000A"), ("tab\there", "U+0009"),
    ("del\x7f", "U+007F"), ("next\x85line", "U+0085"), ("para\u2029", "U+2029")])
def test_identifiers_with_control_characters_are_refused(field: str, value: str,
                                                          found: str) -> None:
    """They become Kafka keys, alert subjects and lines in files other systems read."""
    fields = {"kind": "order", "order_id": "o", "amount": 1, field: value}
    with pytest.raises(InvalidEvent, match=f"{field}: must not contain control characters "
                                           f"\\(found {re.escape(found)}\\)"):
        parse_event(raw(**fields))


@pytest.mark.parametrize("value", ["c-1042", "José Ñúñez", "客户 42", "a b"])
def test_printable_identifiers_of_any_script_are_accepted(value: str) -> None:
    assert parse_event(raw(kind="order", order_id="o", amount=1,
                           customer_id=value)).customer_id == value


def test_a_blank_identifier_says_so() -> None:
    with pytest.raises(InvalidEvent, match="customer_id: must not be blank"):
        parse_event(raw(kind="order", order_id="o", amount=1, customer_id="  "))
