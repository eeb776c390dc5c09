"""/livez and /readyz of a real worker on a real broker: 503 until true, 503 again when
the broker stops answering, 200 when it is back; 404 for unknown paths."""

from __future__ import annotations

import signal
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from churnwatch.streams.health import STALE_AFTER, Health, serve
from churnwatch.tools.apache_kafka import KafkaCluster, running_kafka
from churnwatch.tools.broker import free_port
from tests.streams.conftest import Cluster, eventually


def status(port: int, path: str) -> int | None:
    """The HTTP status, or None while nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def statuses_until(port: int, path: str, wanted: int, timeout: float,
                   alive: Callable[[], bool]) -> list[int | None]:
    """Poll ``path`` until it answers ``wanted``; every answer seen, in order."""
    seen: list[int | None] = []

    def answered() -> bool:
        assert alive(), "the worker died"
        seen.append(status(port, path))
        return seen[-1] == wanted

    assert eventually(answered, timeout), f"{path} never answered {wanted}: {seen[-5:]}"
    return seen


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
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            # 4 source topics and the events topic, 4 partitions each; no changelogs
            assert "[+] partitions assigned (20)" in r.read().decode()
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


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_live_needs_a_recent_heartbeat_and_no_crashed_agent() -> None:
    clock = FakeClock()
    health = Health(clock=clock)
    assert not health.live().ok  # before the event loop runs
    health.beat([])
    assert health.live().ok
    clock.now += STALE_AFTER + 1  # the loop is blocked
    verdict = health.live()
    assert not verdict.ok and "event loop ticked 31.0 s ago" in verdict.text()
    health.beat(["churnwatch.detect"])
    assert "agents crashed: churnwatch.detect" in health.live().text()


def test_ready_needs_each_check_and_names_the_missing_one() -> None:
    health = Health()
    health.beat([])
    health.group(assigned=True, recovered=True, partitions=3)
    health.broker(False, "no answer")
    verdict = health.ready()
    assert not verdict.ok
    assert verdict.text().splitlines()[-2:] == ["[-] broker: no answer", "failed"]
    health.broker(True, "answered")
    assert health.ready().ok
    health.group(assigned=False, recovered=True, partitions=0)
    assert not health.ready().ok


def test_http_paths() -> None:
    health = Health()
    health.beat([])
    server = serve("127.0.0.1", 0, CollectorRegistry(), health)
    try:
        port = server.server_port
        assert [status(port, p) for p in ("/livez", "/readyz", "/metrics", "/", "/ready")] == [
            200, 503, 200, 200, 404]
    finally:
        server.shutdown()
        server.server_close()
