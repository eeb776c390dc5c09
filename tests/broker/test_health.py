"""/livez and /readyz of a real worker on a real broker: 503 until true, 503 again when
the broker stops answering, 200 when it is back; 404 for unknown paths."""

from __future__ import annotations

import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from churnwatch.tools.apache_kafka import KafkaCluster, running_kafka
from churnwatch.tools.broker import free_port
from tests.support.cluster import Cluster, eventually, status, statuses_until


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaCluster]:
    """This test pauses its broker, so it gets one nobody else uses."""
    with running_kafka(home=tmp_path / "kafka") as kafka:
        yield kafka
        kafka.nodes[0].resume()  # never leave it stopped for the teardown


@pytest.mark.broker
def test_readyz_follows_start_and_broker_outage(own_broker: KafkaCluster, tmp_path: Path
                                                ) -> None:
    cluster, node = Cluster(own_broker, tmp_path), own_broker.nodes[0]
    port = free_port()
    worker = cluster.start_worker(metrics_port=port)
    alive = lambda: worker.poll() is None  # noqa: E731
    try:
        start = statuses_until(port, "/readyz", 200, timeout=120, alive=alive)
        assert 503 in start, f"ready before it started: {start}"
        assert start.index(503) < len(start) - 1
        assert status(port, "/livez") == 200
        # 4 source topics and the events topic, 4 partitions each; no changelogs. Ready may
        # come a heartbeat before the last topic's partitions count (seen: 16 of 20, under
        # load), so the count is polled for a few heartbeats
        assert eventually(lambda: "[+] partitions assigned (20)" in readyz(port), 10), \
            readyz(port)
        assert status(port, "/healthz") == 404
        assert status(port, "/metrics") == 200

        node.pause()  # the broker stops answering
        statuses_until(port, "/readyz", 503, timeout=60, alive=alive)
        assert status(port, "/livez") == 200, "a broker outage is no reason to restart"
        node.resume()
        statuses_until(port, "/readyz", 200, timeout=60, alive=alive)
    finally:
        node.resume()
        cluster.stop_workers()
    assert worker.returncode in (0, -signal.SIGTERM), cluster.logs()


def readyz(port: int) -> str:
    """The body of /readyz, whatever its status."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            return str(r.read().decode())
    except urllib.error.HTTPError as e:
        return str(e.read().decode())
