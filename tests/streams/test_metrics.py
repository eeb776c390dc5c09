"""The worker's /metrics endpoint, checked by Prometheus' own promtool."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import orjson

from churnwatch.streams.broker import free_port
from churnwatch.streams.produce import produce
from tests.streams.conftest import Cluster, collect_until


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return str(r.read().decode())


def test_metrics_count_events_invalid_and_alerts_without_customer_ids(
        cluster: Cluster, tmp_path: Path) -> None:
    port = free_port()
    cluster.start_worker(metrics_port=port)
    events = [orjson.dumps({"kind": "engagement", "event_id": f"m{n}",
                            "customer_id": f"secret-customer-{n}",
                            "occurred_at": f"2025-02-0{n}T00:00:00Z",
                            "action": "unfollow" if n < 3 else "visit"}) for n in range(1, 5)]
    produce([*events, b"not json"], cluster.settings)
    collect_until(cluster.consumer(cluster.settings.topics.recall), lambda r: len(r) >= 2,
                  timeout=60)
    text = ""
    collect_until(cluster.consumer(cluster.settings.topics.dead_letter),
                  lambda r: len(r) >= 1, timeout=30)
    deadline = time.monotonic() + 10  # counters move right after the sends: poll briefly
    while time.monotonic() < deadline:
        text = scrape(port)
        if 'churnwatch_alerts_total{signal="unfollowed",tier="basic"} 2.0' in text:
            break
        time.sleep(0.1)
    assert 'churnwatch_events_total{kind="engagement"} 4.0' in text
    assert 'churnwatch_events_invalid_total{topic="' in text
    assert 'churnwatch_alerts_total{signal="unfollowed",tier="basic"} 2.0' in text
    assert "secret-customer" not in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by `make system-deps`"
    checked = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                             capture_output=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
