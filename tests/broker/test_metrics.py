"""The worker's /metrics endpoint, checked by Prometheus' own promtool."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import orjson

from churnwatch.tools.broker import free_port
from churnwatch.tools.produce import produce
from tests.support.cluster import Cluster, collect_until, eventually, scrape
from tests.support.logs import closing_visits


def test_metrics_count_events_invalid_and_alerts_without_customer_ids(
        cluster: Cluster, tmp_path: Path) -> None:
    port = free_port()
    cluster.start_worker(metrics_port=port)
    events = [orjson.dumps({"kind": "engagement", "event_id": f"m{n}",
                            "customer_id": f"secret-customer-{n}",
                            "occurred_at": f"2025-02-0{n}T00:00:00Z",
                            "action": "unfollow" if n < 3 else "visit"}) for n in range(1, 5)]
    closing = closing_visits("m-close", datetime(2025, 2, 9, tzinfo=UTC).timestamp())
    produce([*events, b"not json", *closing], cluster.settings)
    collect_until(cluster.consumer(cluster.settings.topics.recall), lambda r: len(r) >= 2,
                  timeout=60)
    collect_until(cluster.consumer(cluster.settings.topics.dead_letter),
                  lambda r: len(r) >= 1, timeout=30)

    s = cluster.settings
    read = {s.topics.orders, s.topics.engagement, s.topics.complaints, s.topics.actions,
            f"{s.runtime.app_id}-events"}

    def settled() -> str | None:
        text = scrape(port)
        return text if ('churnwatch_alerts_total{signal="unfollowed",tier="basic"} 2.0' in text
                        and 'churnwatch_alert_latency_seconds_count{since="received"} 2.0'
                        in text and all(f'churnwatch_consumer_lag_messages{{partition="{n}",'
                                        f'topic="{topic}"}}' in text for topic in read
                                        for n in range(s.topics.partitions))) else None

    # counters move right after the sends, the lag with the next measurement (every 5 s,
    # for each partition once its high-water mark is known): poll, then check the last page
    text = eventually(settled, 30, every=0.1) or scrape(port)
    assert 'churnwatch_events_total{kind="engagement"} 7.0' in text
    assert 'churnwatch_events_total{kind="order"} 0.0' in text  # declared at start
    assert f'churnwatch_events_invalid_total{{topic="{s.topics.orders}"}} 1.0' in text
    assert f'churnwatch_events_invalid_total{{topic="{s.topics.engagement}"}} 0.0' in text
    assert 'churnwatch_alerts_total{signal="unfollowed",tier="basic"} 2.0' in text
    assert 'churnwatch_alerts_total{signal="gone_quiet",tier="diamond"} 0.0' in text
    for since in ("event_time", "received"):
        assert f'churnwatch_alert_latency_seconds_count{{since="{since}"}} 2.0' in text
    # the events are from 2025: their event-time latency is months, beyond every bucket
    assert 'churnwatch_alert_latency_seconds_bucket{le="7200.0",since="event_time"} 0.0' in text
    assert 'churnwatch_alert_latency_seconds_bucket{le="60.0",since="received"} 2.0' in text
    assert f'churnwatch_publish_errors_total{{topic="{s.topics.recall}"}} 0.0' in text
    assert "churnwatch_rebalances_total 1.0" in text
    assert f'churnwatch_assigned_partitions{{topic="{s.topics.engagement}"}} 4.0' in text
    lagged = {line.split('topic="')[1].split('"')[0] for line in text.splitlines()
              if line.startswith("churnwatch_consumer_lag_messages{")}
    assert lagged == read, "lag for the topics it reads, and only those"
    for series in ("process_resident_memory_bytes", "process_open_fds", "python_info",
                   "python_gc_collections_total", "churnwatch_build_info{"):
        assert series in text
    assert 'churnwatch_model_info{version="' in text
    assert "secret-customer" not in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by `make system-deps`"
    checked = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                             capture_output=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
