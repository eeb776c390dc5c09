"""``churnwatch broker`` as a user runs it: Apache Kafka or the embedded broker started by
the command, workers pointed at it by address. The workers recognise the broker by what
it answers, not by who started it."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from churnwatch.tools.broker import free_port
from tests.support.cluster import (
    ROOT,
    BrokerAt,
    Cluster,
    alerts_after,
    assert_equivalent,
    collect_until,
    eventually,
    status,
)
from tests.support.logs import make_log, replay_alerts


def broker_command(tmp_path: Path, *args: str) -> Iterator[str]:
    """Run ``churnwatch broker ARGS`` until the generator is closed; yields its address
    once it says it listens. Stopped as a user stops it (SIGTERM), and must exit 0."""
    port = free_port()
    err = (tmp_path / "broker.err").open("w+b")
    proc = subprocess.Popen([sys.executable, "-m", "churnwatch.cli", "broker", "--port",
                             str(port), *args], stderr=err, cwd=ROOT)
    try:
        said = eventually(lambda: b"listening on" in (tmp_path / "broker.err").read_bytes()
                          or proc.poll() is not None, timeout=120)
        assert said and proc.poll() is None, (tmp_path / "broker.err").read_text()
        yield f"127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, (tmp_path / "broker.err").read_text()


@pytest.fixture
def kafka_by_address(tmp_path: Path) -> Iterator[str]:
    yield from broker_command(tmp_path, "--kind", "kafka")


@pytest.fixture
def tansu_by_address(tmp_path: Path) -> Iterator[str]:
    yield from broker_command(tmp_path)


def produce_command(cluster: Cluster, log: Path | None = None, lines: bytes = b"") -> None:
    """``churnwatch produce LOG``, or ``-`` with ``lines`` on its standard input."""
    run = subprocess.run([sys.executable, "-m", "churnwatch.cli", "produce",
                          str(log) if log else "-"], input=lines,
                         env=cluster.process_env(), cwd=ROOT, capture_output=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stderr.decode()


def worker_logs(tmp_path: Path) -> str:
    return "".join(p.read_text() for p in sorted(tmp_path.glob("worker*.log")))


@pytest.mark.broker
def test_a_worker_on_churnwatch_broker_kind_kafka_gives_replays_alerts(
        kafka_by_address: str, tmp_path: Path) -> None:
    """``churnwatch broker --kind kafka``, a worker, ``churnwatch produce LOG``: the alerts
    of ``churnwatch replay LOG``, byte for byte (fitted statistics); the worker runs
    without the embedded broker's workarounds."""
    cluster = Cluster(BrokerAt(kafka_by_address), tmp_path)
    try:
        log = make_log(tmp_path)
        cluster.fit(log)
        expected = replay_alerts(log, tmp_path, cluster.settings)
        worker = cluster.start_worker()
        produce_command(cluster, log)
        got = alerts_after(cluster.consumer(cluster.settings.topics.recall), expected,
                           alive=lambda: worker.poll() is None, progress=cluster.progress,
                           exact=True)
        assert_equivalent(expected, got, exact=True)
    finally:
        cluster.stop_workers()
    assert "no embedded-broker workarounds" in worker_logs(tmp_path)


@pytest.mark.broker
@pytest.mark.timeout(900)  # its bounded waits: 120 + 120 + 120 + 240 s, and the stops
def test_two_workers_on_churnwatch_broker_by_address_join_and_leave(
        tansu_by_address: str, tmp_path: Path) -> None:
    """The embedded broker started by ``churnwatch broker``, not by the demo: each worker
    recognises it and turns its workarounds on; a second worker joins while alerts flow,
    then leaves, neither crashes (before: the first died of Faust's ConsistencyError on
    the embedded broker's short end offsets), and the first goes on alerting. Not every
    alert of replay is asked for: with two workers on this broker a detect agent can miss
    an event (RELIABILITY.md, "Known limits"); the equivalence tests run on Kafka."""
    cluster = Cluster(BrokerAt(tansu_by_address), tmp_path)
    try:
        log = make_log(tmp_path)
        expected = replay_alerts(log, tmp_path, cluster.settings)
        lines = log.read_bytes().splitlines(keepends=True)
        first = cluster.start_worker()
        produce_command(cluster, lines=b"".join(lines[:len(lines) // 2]))
        recall = cluster.consumer(cluster.settings.topics.recall)
        both = lambda: all(w.poll() is None for w in cluster.workers)  # noqa: E731
        seen = collect_until(recall, lambda r: len(r) >= len(expected) // 4, timeout=120,
                             alive=both)
        second = cluster.start_worker()
        ready = eventually(lambda: status(cluster.ports[1], "/readyz") == 200, timeout=120)
        assert ready and both(), cluster.logs()
        produce_command(cluster, lines=b"".join(lines[len(lines) // 2:]))
        seen += collect_until(recall, lambda r: len(r) >= len(expected) // 4, timeout=120,
                              alive=both)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, cluster.logs()
        later = collect_until(recall, lambda r: len(seen) + len(r) >= len(expected) * 3 // 4,
                              timeout=240, alive=lambda: first.poll() is None)
        assert later and len(seen) + len(later) >= len(expected) * 3 // 4, (
            f"{len(seen)} alerts before the leave, {len(later)} after, of {len(expected)}: "
            f"{cluster.progress()}")
        assert first.poll() is None, cluster.logs()
    finally:
        cluster.stop_workers()
    logs = worker_logs(tmp_path)
    assert "ConsistencyError" not in logs and "Traceback" not in logs, logs
    assert logs.count("the embedded one (Tansu), with its workarounds") == 2, logs
