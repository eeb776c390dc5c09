"""kill -9 of a worker mid-stream, then a restart: the table is recovered from its
changelog, no event is counted twice, and the alerts are those of an uninterrupted run."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.streams.conftest import (
    DISTURBED_TIMEOUT,
    Cluster,
    alerts_after,
    changelog_states,
    one_worker_part_way,
)
from tests.streams.logs import make_log, replay_alerts, replay_states
from tests.streams.test_replay_equivalence import assert_equivalent


@pytest.mark.timeout(DISTURBED_TIMEOUT)
def test_kill_9_mid_stream_then_restart(cluster: Cluster, tmp_path: Path) -> None:
    log = make_log(tmp_path, customers=200)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    first, recall, before = one_worker_part_way(cluster, log, len(expected) // 3)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert len(before) < len(expected), "the worker finished before it could be killed"
    second = cluster.start_worker()
    got = alerts_after(recall, expected, before=before, alive=lambda: second.poll() is None,
                       progress=cluster.progress)
    assert_equivalent(expected, got)
    # No event counted twice: each customer's purchase history matches replay exactly.
    truth = replay_states(log, cluster.settings)
    written = changelog_states(cluster)
    assert written.keys() == truth.keys()
    for cid, state in written.items():
        want = truth[cid]
        assert (state.orders, state.spend, state.counts, state.amounts, state.first_order,
                state.last_order) == (want.orders, want.spend, want.counts, want.amounts,
                                      want.first_order, want.last_order), cid
