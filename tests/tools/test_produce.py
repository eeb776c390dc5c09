"""Routing a log line to its source topic never fails, whatever the line holds: a
producer that raises on a hostile line would stop the rest of the log."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.settings import Settings
from churnwatch.tools.produce import route
from tests.support.hostile import HOSTILE

SETTINGS = Settings.build()
SOURCES = {SETTINGS.topics.orders, SETTINGS.topics.engagement, SETTINGS.topics.complaints}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8)


def test_every_hostile_line_is_routed_to_a_source_topic() -> None:
    for name, raw in HOSTILE.items():
        topic, _ = route(raw, SETTINGS)
        assert topic in SOURCES, name


@given(st.fixed_dictionaries({}, optional={"kind": json_values, "customer_id": json_values,
                                            "occurred_at": json_values | st.datetimes().map(
                                                lambda d: d.isoformat())}))
def test_any_json_object_is_routed(body: dict) -> None:
    topic, key = route(orjson.dumps(body), SETTINGS)
    assert topic in SOURCES
    assert key is None or isinstance(key, bytes)


@given(st.binary(max_size=64))
def test_any_bytes_are_routed(raw: bytes) -> None:
    assert route(raw, SETTINGS)[0] in SOURCES


def test_a_valid_event_is_routed_by_kind_and_keyed_by_customer() -> None:
    line = (b'{"kind":"complaint","event_id":"e","customer_id":"c7","occurred_at":'
            b'"2024-03-01T00:00:00Z","ticket_id":"t","severity":"minor"}')
    assert route(line, SETTINGS) == (SETTINGS.topics.complaints, b"c7")
