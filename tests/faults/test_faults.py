"""Faults a worker must survive with the alerts and customer states of an undisturbed run:
kills at random points, a worker lost for good, a paused broker, duplicated and reordered
input. Each classifies against the population fitted on its log, so it can compare with
replay of the same log exactly: every alert, byte for byte."""

from __future__ import annotations

import os
import random
import signal
import subprocess
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer

from churnwatch.models.events import InvalidEvent, parse_event
from churnwatch.streams.produce import produce, read_lines
from tests.faults.conftest import FULL
from tests.streams.conftest import (
    ALERTS_TIMEOUT,
    DISTURBED_TIMEOUT,
    PART_WAY_TIMEOUT,
    Cluster,
    alerts_after,
    assert_counted_once,
    collect_until,
    eventually,
    one_worker_part_way,
)
from tests.streams.logs import make_log, replay_alerts
from tests.streams.test_replay_equivalence import assert_equivalent

KILLS = 20 if FULL else 1
CUSTOMERS = 200 if FULL else 100


@pytest.mark.timeout(KILLS * PART_WAY_TIMEOUT + DISTURBED_TIMEOUT)
def test_kill_9_at_random_points_and_restart_each_time(cluster: Cluster,
                                                       tmp_path: Path) -> None:
    """Each restart recovers the tables from their changelogs and re-reads what was not
    committed: no alert lost or changed, no event counted twice."""
    log = make_log(tmp_path, customers=CUSTOMERS)
    cluster.fit(log)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    rnd = random.Random(KILLS)
    # kill once the recall topic holds this many alerts: random points while it works
    points = sorted(rnd.sample(range(1, int(len(expected) * 0.9)), KILLS))
    worker = cluster.start_worker()
    produce(read_lines(log), cluster.settings)
    recall = cluster.consumer(cluster.settings.topics.recall)
    seen: list[bytes] = []
    for point in points:
        more = point - len(seen)
        seen += collect_until(recall, lambda r, more=more: len(r) >= more,
                              timeout=PART_WAY_TIMEOUT, alive=lambda w=worker: w.poll() is None)
        assert len(seen) >= point, f"no progress to {point} alerts: {cluster.progress()}"
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        worker = cluster.start_worker()
    _assert_as_replayed(cluster, log, expected, recall, worker, before=seen)


@pytest.mark.timeout(DISTURBED_TIMEOUT)
def test_a_worker_lost_for_good_is_taken_over(cluster: Cluster, tmp_path: Path) -> None:
    log = make_log(tmp_path, customers=CUSTOMERS)
    cluster.fit(log)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    survivor = cluster.start_worker()
    doomed, recall, before = one_worker_part_way(cluster, log, len(expected) // 3)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    _assert_as_replayed(cluster, log, expected, recall, survivor, before=before)


@pytest.mark.timeout(DISTURBED_TIMEOUT + 60)
def test_a_broker_paused_for_30_s_mid_stream(cluster: Cluster, tmp_path: Path) -> None:
    log = make_log(tmp_path, customers=CUSTOMERS)
    cluster.fit(log)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    worker, recall, before = one_worker_part_way(cluster, log, len(expected) // 3)
    pid = cluster.broker.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:  # the fault lasts 30 s by the clock; the worker must ride it out
        died = eventually(lambda: worker.poll() is not None, timeout=30, every=1)
        assert not died, f"the worker died while the broker slept: {cluster.logs()}"
    finally:
        os.kill(pid, signal.SIGCONT)
    _assert_as_replayed(cluster, log, expected, recall, worker, before=before)


@pytest.mark.timeout(ALERTS_TIMEOUT + 120)
def test_duplicated_and_reordered_input_changes_nothing(cluster: Cluster,
                                                        tmp_path: Path) -> None:
    """20 % of the events sent twice, and the arrival order shuffled within the allowed
    lateness: the alerts and states of the clean log."""
    log = make_log(tmp_path, customers=CUSTOMERS, noise=False)
    cluster.fit(log)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    lateness = cluster.settings.detection.allowed_lateness.total_seconds()
    messy = _messy(log, tmp_path / "messy.jsonl", duplicated=0.2, within=lateness)
    (tmp_path / "messy").mkdir()
    assert replay_alerts(messy, tmp_path / "messy", cluster.settings) == expected
    worker = cluster.start_worker()
    produce(read_lines(messy), cluster.settings)
    _assert_as_replayed(cluster, log, expected,
                        cluster.consumer(cluster.settings.topics.recall), worker)


def _assert_as_replayed(cluster: Cluster, log: Path, expected: list[dict],
                        recall: KafkaConsumer, worker: subprocess.Popen[bytes],
                        before: list[bytes] | None = None) -> None:
    """What an undisturbed run gives: replay's alerts, every one byte for byte (fitted
    statistics), from ``worker``, the one left running, and every customer's purchase
    history of replay of ``log``."""
    got = alerts_after(recall, expected, before=before, alive=lambda: worker.poll() is None,
                       progress=cluster.progress, exact=True)
    assert_equivalent(expected, got, exact=True)
    assert_counted_once(cluster, log)


def _messy(log: Path, out: Path, duplicated: float, within: float) -> Path:
    """Each line arrives at its event time plus a random delay under ``within`` (so none is
    late), and a ``duplicated`` share of them arrives twice, each copy with its own delay."""
    rnd = random.Random(13)
    keyed = []
    for n, line in enumerate(line.rstrip(b"\n") for line in read_lines(log)):
        try:
            ts = parse_event(line).ts
        except InvalidEvent:
            continue
        copies = 2 if rnd.random() < duplicated else 1
        keyed += [(ts + rnd.uniform(0, within * 0.999), n, line) for _ in range(copies)]
    out.write_bytes(b"".join(line + b"\n" for _, _, line in sorted(keyed)))
    return out


def test_messy_log_really_is_messy(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    events = [{"kind": "engagement", "event_id": f"e{n}", "customer_id": "c1",
               "occurred_at": f"2024-01-01T00:{n:02d}:00Z", "action": "visit"}
              for n in range(60)]
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    lines = _messy(log, tmp_path / "messy.jsonl", duplicated=0.2, within=600).read_bytes()
    ids = [orjson.loads(line)["event_id"] for line in lines.splitlines()]
    assert 60 < len(ids) < 90 and set(ids) == {f"e{n}" for n in range(60)}
    assert ids != sorted(ids, key=lambda i: int(i[1:]))  # reordered
