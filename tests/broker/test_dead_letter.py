"""Invalid input lands in the dead-letter topic with its reason and bytes; the stream goes on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
from kafka import KafkaProducer

from churnwatch.streams.admin import client_options
from churnwatch.streams.store import partition_of
from churnwatch.tools.produce import produce
from tests.support.cluster import Cluster, collect_until
from tests.support.logs import closing_visits

INVALID = [
    b'{"kind":"order","event_id":"x1","customer_id":"c1","occurred_at":"2025-01-01T00:00:00",'
    b'"order_id":"o","amount":5}',
    b'{"kind":"order","event_id":"x2","customer_id":"c1","occurred_at":"2025-01-01T00:00:00Z",'
    b'"order_id":"o","amount":-5}',
    b"\xff\xfe not even utf-8",
    b"{truncated",
]


def unfollow(n: int) -> bytes:
    return orjson.dumps({"kind": "engagement", "event_id": f"u{n}", "customer_id": f"c{n}",
                         "occurred_at": f"2025-01-0{n}T00:00:00Z", "action": "unfollow"})


def test_invalid_messages_are_dead_lettered_and_the_stream_keeps_going(
        cluster: Cluster, tmp_path: Path) -> None:
    cluster.start_worker()
    later = closing_visits("later", datetime(2025, 1, 9, tzinfo=UTC).timestamp())
    produce([unfollow(1), *INVALID, unfollow(2), *later], cluster.settings)
    settings = cluster.settings
    dead = cluster.consumer(settings.topics.dead_letter)
    rows = collect_until(dead, lambda r: len(r) >= len(INVALID), timeout=60)
    assert len(rows) == len(INVALID)
    records = [orjson.loads(r) for r in rows]
    assert all(r["topic"] == settings.topics.orders for r in records)
    assert len({(r["partition"], r["offset"]) for r in records}) == len(INVALID)
    reasons = " | ".join(r["reason"] for r in records)
    assert "RFC 3339" in reasons and "amount" in reasons and "JSON" in reasons
    originals = {r.get("raw", "").encode() or None for r in records}
    assert INVALID[0] in originals and INVALID[1] in originals
    assert any("raw_base64" in r for r in records)  # the non-UTF-8 bytes, kept exactly
    recall = cluster.consumer(settings.topics.recall)
    alerts = [orjson.loads(r) for r in collect_until(recall, lambda r: len(r) >= 2, timeout=60)]
    assert sorted(a["subject"] for a in alerts) == ["c1", "c2"]  # before and after the junk


def test_one_hop_dead_letters_records_not_keyed_by_their_customer(
        cluster: Cluster, tmp_path: Path) -> None:
    """With ``runtime.keyed_sources`` a customer's state lives on its key's partition: a
    record keyed otherwise, unkeyed, or on another partition cannot be detected there."""
    cluster.hops(1)
    cluster.start_worker()
    settings = cluster.settings
    topic, partitions = settings.topics.engagement, settings.topics.partitions
    producer = KafkaProducer(**client_options(settings))
    misplaced = {unfollow(3): {"key": b"someone-else"}, unfollow(4): {"key": None},
                 unfollow(5): {"key": b"c5",
                               "partition": (partition_of(b"c5", partitions) + 1) % partitions}}
    for value, where in misplaced.items():
        producer.send(topic, value=value, **where)
    producer.flush()
    producer.close()
    produce([unfollow(1), *closing_visits("later", datetime(2025, 1, 9, tzinfo=UTC).timestamp())],
            settings)
    dead = cluster.consumer(settings.topics.dead_letter)
    records = [orjson.loads(r) for r in collect_until(dead, lambda r: len(r) >= 3, timeout=60)]
    assert sorted(r["raw"].encode() for r in records) == sorted(misplaced), (
        f"{cluster.progress()}\n{cluster.logs()}")
    assert all("runtime.keyed_sources" in r["reason"] for r in records)
    recall = cluster.consumer(settings.topics.recall)
    alerts = [orjson.loads(r) for r in collect_until(recall, lambda r: len(r) >= 1, timeout=60)]
    assert [a["subject"] for a in alerts] == ["c1"]
