"""A second worker joins mid-stream: partitions move, the first worker re-reads what it had
not committed, and the alerts and late refusals are still those of replay."""

from __future__ import annotations

from pathlib import Path

import orjson

from churnwatch.replay import LATE_REASON
from streams.produce import produce, read_lines
from tests.streams.conftest import Cluster, collect_until
from tests.streams.logs import POPULATION_SIGNALS, make_log, replay_alerts, replay_late
from tests.streams.test_replay_equivalence import assert_equivalent


def test_a_worker_joining_mid_stream_changes_no_alert(cluster: Cluster, tmp_path: Path) -> None:
    log = make_log(tmp_path)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    first = cluster.start_worker()
    produce(read_lines(log), cluster.settings)
    recall = cluster.consumer(cluster.settings.topics.recall)
    before = collect_until(recall, lambda r: len(r) >= len(expected) // 4, timeout=90,
                           alive=lambda: first.poll() is None)
    assert len(before) < len(expected), "the stream ended before the second worker joined"
    cluster.start_worker()
    stable = {a["id"] for a in expected
              if a["data"]["signal"] not in POPULATION_SIGNALS | {"recovered"}}
    after = collect_until(recall, lambda r: stable <= {orjson.loads(x)["id"] for x in
                                                       before + r},
                          timeout=120, alive=lambda: all(w.poll() is None
                                                         for w in cluster.workers))
    after += collect_until(recall, lambda _: False, timeout=3)
    unique = {a["id"]: a for a in map(orjson.loads, before + after)}  # re-sent: same id
    assert_equivalent(expected, list(unique.values()))
    dead = [orjson.loads(r) for r in collect_until(
        cluster.consumer(cluster.settings.topics.dead_letter), lambda _: False, timeout=3)]
    assert sum(d["reason"] == LATE_REASON for d in dead) == replay_late(
        log, tmp_path, cluster.settings)
