"""A second worker joins mid-stream or as the log arrives (and leaves again): partitions move,
what they had not committed, and the alerts and late refusals are still those of replay."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from churnwatch.tools.produce import produce, read_lines
from tests.support.cluster import (
    DISTURBED_TIMEOUT,
    PART_WAY_TIMEOUT,
    Cluster,
    alerts_after,
    assert_equivalent,
    eventually,
    late_refusals,
    metric_values,
    one_worker_part_way,
)
from tests.support.logs import make_log, replay_alerts, replay_late


@pytest.mark.timeout(DISTURBED_TIMEOUT)
def test_a_worker_joining_mid_stream_changes_no_alert(cluster: Cluster, tmp_path: Path) -> None:
    log = make_log(tmp_path)
    cluster.fit(log)  # fitted statistics: streaming must equal replay exactly
    expected = replay_alerts(log, tmp_path, cluster.settings)
    _, recall, before = one_worker_part_way(cluster, log, len(expected) // 4)
    assert len(before) < len(expected), "the stream ended before the second worker joined"
    cluster.start_worker()
    got = alerts_after(recall, expected, before=before,
                       alive=lambda: all(w.poll() is None for w in cluster.workers),
                       progress=cluster.progress, exact=True)
    assert_equivalent(expected, got, exact=True)
    assert late_refusals(cluster) == replay_late(log, tmp_path, cluster.settings)


def _metric(port: int, name: str) -> float:
    return sum((metric_values(port) or {}).get(name, []))


@pytest.mark.timeout(DISTURBED_TIMEOUT + 2 * PART_WAY_TIMEOUT)
def test_a_worker_joining_then_leaving_changes_no_alert(cluster: Cluster,
                                                        tmp_path: Path) -> None:
    """Scale out, then in, mid-stream, as a user does it: the second worker is started with
    the same settings as the first, data directory included (it takes its own beside it),
    joins the group (ready: partitions assigned, tables recovered), and is stopped while
    the first is still working through the log. Every alert is replay's, exactly. (The
    whole log is sent at once: a lull longer than ``idle_after`` followed by a burst of
    historic events is a different matter, RELIABILITY.md "Known limits".)"""
    log = make_log(tmp_path)
    cluster.fit(log)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    first, recall, before = one_worker_part_way(cluster, log, len(expected) // 8)
    assert len(before) < len(expected), "the stream ended before the second worker joined"
    second = cluster.start_worker()
    both = lambda: first.poll() is None and second.poll() is None  # noqa: E731
    assert eventually(lambda: _metric(cluster.ports[1], "churnwatch_ready") or not both(),
                      timeout=PART_WAY_TIMEOUT), cluster.progress()
    assert both(), cluster.logs()
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0, cluster.logs()
    got = alerts_after(recall, expected, before=before, alive=lambda: first.poll() is None,
                       progress=cluster.progress, exact=True)
    assert_equivalent(expected, got, exact=True)
    assert late_refusals(cluster) == replay_late(log, tmp_path, cluster.settings), (
        cluster.progress())
    assert _metric(cluster.ports[0], "churnwatch_rebalances") >= 3  # start, join, leave
    assert "is in use by another worker" in (cluster.tmp / "worker1.log").read_text()


@pytest.mark.timeout(DISTURBED_TIMEOUT)
@pytest.mark.parametrize("hops", [1])  # two hops: the mid-stream join above
def test_a_worker_joining_as_the_log_arrives_changes_no_alert(cluster: Cluster, tmp_path: Path,
                                                              hops: int) -> None:
    """The first worker owns every partition for a moment and ticks about what it read;
    the second joins as the log streams in, and takes over partitions whose committed
    offsets are behind those ticks. With one hop a partition's clock trusted them and
    refused the events it read again as late (streams/clock.py, ``own``): 2 of 2 runs
    lost or invented alerts before the fix."""
    cluster.hops(hops)
    log = make_log(tmp_path, customers=100)
    cluster.fit(log)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    cluster.start_worker()
    assert eventually(lambda: _metric(cluster.ports[0], "churnwatch_ready") == 1, timeout=60)
    cluster.start_worker()
    produce(read_lines(log), cluster.settings)
    got = alerts_after(cluster.consumer(cluster.settings.topics.recall), expected,
                       alive=lambda: all(w.poll() is None for w in cluster.workers),
                       progress=cluster.progress, exact=True)
    assert_equivalent(expected, got, exact=True)
    assert late_refusals(cluster) == replay_late(log, tmp_path, cluster.settings)
