"""``produce`` works on a cluster that creates no topic on first use, before any worker
ran."""

from __future__ import annotations

import subprocess
import sys

import orjson

from tests.support.cluster import ROOT, Cluster, collect_until


def test_produce_creates_the_topics_a_cluster_does_not_create_itself(cluster: Cluster) -> None:
    """The test Kafka has ``auto.create.topics.enable=false``, as many production clusters:
    before, ``churnwatch produce`` ahead of any worker timed out on metadata."""
    lines = [orjson.dumps({"kind": "order", "event_id": f"e{n}", "customer_id": f"c{n}",
                           "occurred_at": "2024-03-01T00:00:00Z", "order_id": f"o{n}",
                           "amount": 10.0}) for n in range(5)]
    done = subprocess.run([sys.executable, "-m", "churnwatch.cli", "produce", "-"],
                          input=b"\n".join(lines), env=cluster.process_env(), cwd=ROOT,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()
    got = collect_until(cluster.consumer(cluster.settings.topics.orders),
                        lambda r: len(r) >= len(lines), timeout=30)
    assert sorted(got) == sorted(lines)
