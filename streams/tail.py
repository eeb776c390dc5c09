"""Read the recall topic: one readable line per alert, or the raw CloudEvents."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from kafka import KafkaConsumer

from churnwatch.config import Settings
from churnwatch.streams.admin import client_options


def alerts(settings: Settings, *, from_beginning: bool) -> Iterator[dict[str, object]]:
    consumer = KafkaConsumer(
        settings.topics.recall, **client_options(settings),
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False, group_id=None)
    try:
        for record in consumer:
            yield orjson.loads(record.value)
    finally:
        consumer.close()


def describe(alert: dict[str, object]) -> str:
    data = alert["data"]
    assert isinstance(data, dict)
    reason = data["reasons"][0]["text"] if data["reasons"] else ""
    return (f"{alert['time']}  {data['signal']:<20} {data['severity']:<8} {data['tier']:<9} "
            f"{alert['subject']}: {reason} -> {data['recommended_action']['code']}")
