"""/livez and /readyz as decided from heartbeats and readiness checks, and the paths the
endpoint answers (a real worker on a real broker: tests/broker/test_health.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from churnwatch.streams.health import STALE_AFTER, Health, serve
from tests.support.cluster import status


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
