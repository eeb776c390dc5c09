"""Read the recall topic: one readable line per alert, or the raw CloudEvents.

"New alerts only" cannot trust the end offsets a broker reports: the embedded broker
answers ListOffsets "latest" with less than it stores (1,351 of 1,437 records measured on
a recall topic), so a reader starting there first got 80+ old alerts. The high-water mark
of a fetch response is right on every broker, so the reader starts from the broker's
"latest" as usual and drops what lies below the first high-water mark it is told for each
partition: everything published before the reader's first fetch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from churnwatch.settings import Settings
from churnwatch.streams.admin import client_options
from churnwatch.streams.cloudevents import envelope


class RecallReader:
    """Alerts from the recall topic, all of them or only those published from now on."""

    def __init__(self, settings: Settings, *, from_beginning: bool) -> None:
        self.topic = settings.topics.recall
        self.consumer = KafkaConsumer(
            self.topic, **client_options(settings),
            auto_offset_reset="earliest" if from_beginning else "latest",
            enable_auto_commit=False, group_id=None)
        self._start: dict[TopicPartition, int] | None = None if from_beginning else {}

    @property
    def positioned(self) -> bool:
        """Whether every partition's starting point is known (always, from the beginning)."""
        if self._start is None:
            return True
        assigned = self.consumer.assignment()
        return bool(assigned) and all(tp in self._start for tp in assigned)

    def poll(self, timeout_ms: int = 1000) -> list[dict[str, object]]:
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        start = self._start
        if start is None:
            return [_alert(r) for records in batches.values() for r in records]
        fresh = [r for tp, records in batches.items() if tp in start
                 for r in records if r.offset >= start[tp]]
        for tp in self.consumer.assignment():
            if tp not in start and (end := self.consumer.highwater(tp)) is not None:
                start[tp] = end
        return [_alert(r) for r in fresh]

    def close(self) -> None:
        self.consumer.close()


def _alert(record: Any) -> dict[str, object]:
    """The envelope of a record in either CloudEvents mode, as a dict."""
    headers = {name: value or b"" for name, value in record.headers or ()}
    parsed: dict[str, object] = orjson.loads(envelope(record.value, headers))
    return parsed


def alerts(settings: Settings, *, from_beginning: bool,
           on_positioned: Callable[[], None] = lambda: None) -> Iterator[dict[str, object]]:
    """Alerts as they arrive; ``on_positioned`` is called once the reader knows where
    "new" starts on every partition."""
    reader = RecallReader(settings, from_beginning=from_beginning)
    told = False
    try:
        while True:
            yield from reader.poll()
            if not told and reader.positioned:
                told = True
                on_positioned()
    finally:
        reader.close()


def describe(alert: dict[str, object]) -> str:
    data = alert["data"]
    assert isinstance(data, dict)
    reason = data["reasons"][0]["text"] if data["reasons"] else ""
    return (f"{alert['time']}  {data['signal']:<20} {data['severity']:<8} {data['tier']:<9} "
            f"{alert['subject']}: {reason} -> {data['recommended_action']['code']}")
