"""A second worker joins mid-stream: partitions move, the first worker re-reads what it had
not committed, and the alerts and late refusals are still those of replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.streams.conftest import (
    DISTURBED_TIMEOUT,
    Cluster,
    alerts_after,
    late_refusals,
    one_worker_part_way,
)
from tests.streams.logs import make_log, replay_alerts, replay_late
from tests.streams.test_replay_equivalence import assert_equivalent


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
