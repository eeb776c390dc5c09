"""What consumers of the recall topic get, read by librdkafka, the C client most
non-Java consumers (and kcat) are built on, and parsed by the official CloudEvents SDK
in each content mode of the Kafka binding.

kcat itself is not used: Debian's kcat 1.7.1 links librdkafka 2.0.2, which cannot parse the
embedded Tansu 0.6.0 broker's ApiVersions v3 response ("Protocol read buffer underflow"),
so it never gets past the handshake. librdkafka 2.16, from the confluent-kafka wheel, does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import orjson
import pytest
from cloudevents.core.bindings.kafka import (
    KafkaMessage,
    from_binary,
    from_kafka,
    from_structured,
)
from cloudevents.core.formats.json import JSONFormat
from confluent_kafka import Consumer, TopicPartition

from churnwatch.models.alert import SCHEMA_VERSION
from churnwatch.tools.produce import produce, read_lines
from churnwatch.tools.tail import RecallReader
from tests.support.cluster import ROOT, Cluster, eventually
from tests.support.golden import GOLDEN
from tests.support.logs import closing_visits, replay_alerts


def sample_with_filler(tmp: Path) -> Path:
    """The hand-written sample, then visits months later so silence signals fire."""
    log = tmp / "sample.jsonl"
    end = datetime(2025, 6, 30, tzinfo=UTC).timestamp()
    log.write_bytes((GOLDEN / "sample.jsonl").read_bytes()
                    + b"".join(line + b"\n" for line in closing_visits("filler", end)))
    return log


def read_all(bootstrap: str, topic: str, partitions: int) -> list[KafkaMessage]:
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
            messages.append(KafkaMessage(headers=dict(m.headers() or []), key=m.key(),
                                         value=m.value()))
    finally:
        consumer.close()
    return messages


SCHEMA = orjson.loads((ROOT / "schemas" / f"alert.{SCHEMA_VERSION}.json").read_bytes())
READERS = {"structured": from_structured, "binary": from_binary}


@pytest.mark.parametrize("mode", ["structured", "binary"])
def test_the_official_sdk_reads_every_alert_as_replay_made_it(
        cluster: Cluster, tmp_path: Path, mode: str) -> None:
    """One content mode per record, as the binding defines them: the SDK's auto-detecting
    reader and the mode's own reader both give replay's alert, attribute for attribute,
    and the parsed envelope validates against the published schema. The Kafka key is the
    customer (the SDK reads it as the ``partitionkey`` extension)."""
    log = sample_with_filler(tmp_path)
    cluster.fit(log)  # fitted statistics: streaming equals replay byte for byte
    expected = {a["id"]: a for a in replay_alerts(log, tmp_path, cluster.settings)}
    cluster.overrides["CHURNWATCH_RUNTIME__CLOUDEVENTS_MODE"] = mode
    cluster.start_worker()
    produce(read_lines(log), cluster.settings)
    topic = cluster.settings.topics.recall
    reader, seen = RecallReader(cluster.settings, from_beginning=True), set()

    def arrived() -> bool:  # through churnwatch's own reader, which rebuilds envelopes
        seen.update(str(a["id"]) for a in reader.poll(timeout_ms=500))
        return expected.keys() <= seen
    try:
        assert eventually(arrived, timeout=90), cluster.progress()
    finally:
        reader.close()
    messages = read_all(cluster.broker.url, topic, cluster.settings.topics.partitions)
    assert len(messages) == len(expected)
    for message in messages:
        has_ce_headers = any(name.startswith("ce_") for name in message.headers)
        assert has_ce_headers == (mode == "binary")
        for read in (from_kafka, READERS[mode]):
            event = read(message, JSONFormat())
            envelope = orjson.loads(JSONFormat().write(event))
            assert envelope.pop("partitionkey") == event.get_subject()
            assert message.key == event.get_subject().encode()
            want = expected[event.get_id()]
            assert event.get_time() == datetime.fromisoformat(want["time"])
            assert {**envelope, "time": want["time"]} == want
            jsonschema.validate(envelope, SCHEMA)
