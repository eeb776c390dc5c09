"""What consumers of the recall topic get, read by librdkafka, the C client most
non-Java consumers (and kcat) are built on.

kcat itself is not used: Debian's kcat 1.7.1 links librdkafka 2.0.2, which cannot parse the
embedded Tansu 0.6.0 broker's ApiVersions v3 response ("Protocol read buffer underflow"),
so it never gets past the handshake. librdkafka 2.16, from the confluent-kafka wheel, does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
from confluent_kafka import Consumer, TopicPartition

from churnwatch.models.alert import Alert
from churnwatch.streams.produce import produce, read_lines
from tests.golden.cases import GOLDEN
from tests.streams.conftest import Cluster, collect_until
from tests.streams.logs import closing_visits, replay_alerts

REQUIRED = ("specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data")


def sample_with_filler(tmp: Path) -> Path:
    """The hand-written sample, then visits months later so silence signals fire."""
    log = tmp / "sample.jsonl"
    end = datetime(2025, 6, 30, tzinfo=UTC).timestamp()
    log.write_bytes((GOLDEN / "sample.jsonl").read_bytes()
                    + b"".join(line + b"\n" for line in closing_visits("filler", end)))
    return log


def read_all(bootstrap: str, topic: str, partitions: int) -> list[dict]:
    """Every message of the topic via librdkafka, without a consumer group."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                         "enable.partition.eof": True, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    messages, at_end = [], set()
    try:
        while len(at_end) < partitions:
            m = consumer.poll(10)
            assert m is not None, "librdkafka read nothing for 10 s"
            if m.error():
                at_end.add(m.partition())
                continue
            messages.append({"key": m.key().decode(), "payload": m.value(),
                             "headers": {k: v.decode() for k, v in m.headers() or []}})
    finally:
        consumer.close()
    return messages


def test_every_recall_message_read_by_librdkafka_is_a_valid_cloudevent(
        cluster: Cluster, tmp_path: Path) -> None:
    log = sample_with_filler(tmp_path)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    cluster.start_worker()
    produce(read_lines(log), cluster.settings)
    topic = cluster.settings.topics.recall
    want = {a["id"] for a in expected}
    collect_until(cluster.consumer(topic),
                  lambda raw: want <= {orjson.loads(r)["id"] for r in raw}, timeout=90,
                  alive=lambda: cluster.workers[0].poll() is None)
    messages = read_all(cluster.broker.url, topic, cluster.settings.topics.partitions)
    assert {orjson.loads(m["payload"])["id"] for m in messages} == want
    for m in messages:
        envelope = orjson.loads(m["payload"])
        assert all(k in envelope for k in REQUIRED)
        alert = Alert.model_validate(envelope)
        assert m["key"] == alert.subject
        headers = m["headers"]
        assert headers["ce_id"] == alert.id
        assert headers["ce_type"] == alert.type
        assert headers["content-type"].startswith("application/cloudevents+json")
