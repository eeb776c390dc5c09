"""``churnwatch tail`` shows only alerts published after it started, unless asked for all:
on Apache Kafka, and on the embedded broker, whose reported end offsets fall short of what
it stores (the reader trusts only a fetch's high-water mark, right on both)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time

import orjson
import pytest
from kafka import KafkaProducer

from churnwatch.streams.admin import client_options, ensure_topics
from tests.support.cluster import ROOT, Cluster

OLD, NEW = 1437, 25
ON_EACH_BROKER = pytest.mark.parametrize(
    "kind", ["kafka", pytest.param("tansu", marks=pytest.mark.embedded)])
"""Each test once per broker; the ``cluster`` fixture reads the mark, ``kind`` names the run."""


def publish(cluster: Cluster, names: list[str]) -> None:
    """Alert-shaped records in many producer batches (what makes the broker's end offsets
    short), spread over the partitions by key like a worker's."""
    producer = KafkaProducer(**client_options(cluster.settings), linger_ms=20)
    for name in names:
        producer.send(cluster.settings.topics.recall, key=name.encode(),
                      value=orjson.dumps({"id": name}))
    producer.flush()
    producer.close()


def tail(cluster: Cluster, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "churnwatch.cli", "tail", "--json", *args],
                            env={**os.environ, **cluster.env}, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def read_ids(proc: subprocess.Popen[bytes], count: int, timeout: float) -> list[str]:
    """Lines from the tail until ``count`` or the timeout, whichever first (a thread reads
    them: a pipe's buffered reader hides lines from ``select``)."""
    assert proc.stdout is not None
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or ()],
                     daemon=True).start()
    ids: list[str] = []
    deadline = time.monotonic() + timeout
    while len(ids) < count and (left := deadline - time.monotonic()) > 0:
        try:
            ids.append(orjson.loads(lines.get(timeout=left))["id"])
        except queue.Empty:
            break
    return ids


@ON_EACH_BROKER
def test_tail_shows_only_what_is_published_after_it_started(cluster: Cluster, kind: str
                                                            ) -> None:
    ensure_topics(cluster.settings)
    publish(cluster, [f"old-{n}" for n in range(OLD)])
    proc = tail(cluster)
    try:
        assert proc.stderr is not None
        assert b"from now on" in proc.stderr.readline()  # positioned
        publish(cluster, [f"new-{n}" for n in range(NEW)])
        got = read_ids(proc, NEW + 1, timeout=10)  # one more than sent: none may come
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert sorted(got) == sorted(f"new-{n}" for n in range(NEW))


@ON_EACH_BROKER
def test_tail_from_the_beginning_shows_every_alert(cluster: Cluster, kind: str) -> None:
    ensure_topics(cluster.settings)
    publish(cluster, [f"old-{n}" for n in range(OLD)])
    proc = tail(cluster, "--from-beginning")
    try:
        got = read_ids(proc, OLD, timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert sorted(got) == sorted(f"old-{n}" for n in range(OLD))
