"""Faults of a three-node Apache Kafka cluster (replication 3, min.insync.replicas 2) under
a running worker: the leader of a partition killed and brought back, one broker frozen for
30 s, one lost for good. Each run must give replay's alerts byte for byte (fitted
statistics) and count no event twice: what the worker promises on a real cluster
(RELIABILITY.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from churnwatch.tools.apache_kafka import KafkaCluster, KafkaNode, running_kafka
from churnwatch.tools.produce import produce, read_lines
from tests.support.cluster import (
    DISTURBED_TIMEOUT,
    PART_WAY_TIMEOUT,
    Cluster,
    assert_as_replayed,
    collect_until,
    eventually,
    one_worker_part_way,
)
from tests.support.logs import make_log, replay_alerts
from tests.support.session import BROKERS_USED, FAILED

CUSTOMERS = 100
pytestmark = pytest.mark.broker  # starts its own brokers: one test at a time (serial)


@pytest.fixture(scope="module")
def kafka3(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[KafkaCluster]:
    with running_kafka(3, home=tmp_path_factory.mktemp("kafka3")) as kafka:
        request.config.stash.setdefault(BROKERS_USED, set()).add(kafka.describe())
        yield kafka


@pytest.fixture
def cluster3(kafka3: KafkaCluster, tmp_path: Path, request: pytest.FixtureRequest
             ) -> Iterator[Cluster]:
    """A pipeline on the three nodes, all of them up when it starts (a test before may
    have left one down), its topics replicated three times."""
    for node in kafka3.nodes:
        node.resume()
        if not node.running:
            node.start()
    kafka3.wait_ready()
    c = Cluster(kafka3, tmp_path)
    c.overrides["CHURNWATCH_TOPICS__REPLICATION_FACTOR"] = "3"
    yield c
    if request.node.stash.get(FAILED, False):
        c.dump_stacks()
    c.stop_workers()


def leader(kafka: KafkaCluster, topic: str, partition: int = 0) -> KafkaNode | None:
    """The node that leads ``topic``'s ``partition`` now, as the running nodes tell;
    None while none can say (a node just died: the look-up is retried by the caller)."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=[n.url for n in kafka.nodes if n.running],
                                 request_timeout_ms=5000)
        try:
            (described,) = admin.describe_topics([topic])
        finally:
            admin.close()
        lead = next(p["leader_id"] for p in described["partitions"]
                    if p["partition_index"] == partition)
    except (KafkaError, StopIteration):
        return None
    return kafka.node(lead) if lead >= 0 else None


def leader_of(kafka: KafkaCluster, topic: str) -> KafkaNode:
    found = eventually(lambda: leader(kafka, topic), timeout=30)
    assert found, f"no leader of {topic} partition 0 within 30 s"
    return found


def setup(cluster: Cluster, tmp_path: Path) -> tuple[Path, list[dict]]:
    log = make_log(tmp_path, customers=CUSTOMERS)
    cluster.fit(log)
    return log, replay_alerts(log, tmp_path, cluster.settings)


@pytest.mark.timeout(4 * PART_WAY_TIMEOUT + DISTURBED_TIMEOUT)
def test_the_leader_of_each_kind_of_partition_killed_and_brought_back(
        cluster3: Cluster, kafka3: KafkaCluster, tmp_path: Path) -> None:
    """SIGKILL, in turn, the leader of a source partition, of the worker's events
    partition, of a recall partition and of a customers changelog partition, each at
    another point of the stream, and start it again before the next: leadership moves
    to an in-sync replica each time, and nothing the worker confirmed is lost."""
    log, expected = setup(cluster3, tmp_path)
    settings, app = cluster3.settings, cluster3.settings.runtime.app_id
    topics = [settings.topics.orders, f"{app}-events", settings.topics.recall,
              f"{app}-customers-changelog"]
    worker = cluster3.start_worker()
    produce(read_lines(log), settings)
    recall = cluster3.consumer(settings.topics.recall)
    seen: list[bytes] = []
    alive = lambda: worker.poll() is None  # noqa: E731
    for n, topic in enumerate(topics, start=1):
        point = len(expected) * n // (len(topics) + 2)
        more = point - len(seen)
        seen += collect_until(recall, lambda got: len(got) >= more,  # noqa: B023
                              timeout=PART_WAY_TIMEOUT, alive=alive)
        assert len(seen) >= point, f"no progress to {point} alerts: {cluster3.progress()}"
        victim = leader_of(kafka3, topic)
        victim.kill()
        moved = eventually(lambda: leader(kafka3, topic) not in (None, victim),  # noqa: B023
                           timeout=60)
        assert moved, f"leadership of {topic} did not move off node {victim.node_id}"
        victim.start()
        kafka3.wait_ready()
    assert_as_replayed(cluster3, log, expected, recall, worker, before=seen)


@pytest.mark.timeout(DISTURBED_TIMEOUT + 60)
def test_one_broker_frozen_for_30_s(cluster3: Cluster, kafka3: KafkaCluster,
                                    tmp_path: Path) -> None:
    """SIGSTOP the leader of a recall partition for 30 s: it neither answers nor lets go
    of its connections, until the controller fences it and its partitions move."""
    log, expected = setup(cluster3, tmp_path)
    worker, recall, before = one_worker_part_way(cluster3, log, len(expected) // 3)
    frozen = leader_of(kafka3, cluster3.settings.topics.recall)
    frozen.pause()
    try:
        died = eventually(lambda: worker.poll() is not None, timeout=30, every=1)
        assert not died, f"the worker died while a broker was frozen: {cluster3.logs()}"
    finally:
        frozen.resume()
    assert_as_replayed(cluster3, log, expected, recall, worker, before=before)


@pytest.mark.timeout(DISTURBED_TIMEOUT)
def test_a_broker_lost_for_good(cluster3: Cluster, kafka3: KafkaCluster,
                                tmp_path: Path) -> None:
    """SIGKILL the leader of a changelog partition and never bring it back: two nodes
    left, still min.insync.replicas, so every write goes on being confirmed."""
    log, expected = setup(cluster3, tmp_path)
    worker, recall, before = one_worker_part_way(cluster3, log, len(expected) // 3)
    lost = leader_of(kafka3, f"{cluster3.settings.runtime.app_id}-customers-changelog")
    lost.kill()
    assert_as_replayed(cluster3, log, expected, recall, worker, before=before)
