"""A restarted worker resumes from every state it wrote, and event time moves on.

The first worker stops right after a wave that touched every customer; the second gets
one more visit per customer. Every customer's own state (all but population-based
classification) must then equal replay's. This caught a stall: after a restart a source
partition with nothing new since its committed offset never counted as caught up, so
event time stood still until every partition received a new message. It also checks
table recovery on the embedded broker, whose ListOffsets reports the first offset of a
partition's last batch + 1 (Faust recovers up to that "highwater"): measured complete.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from churnwatch.models.state import CustomerState
from churnwatch.replayer import valid_events
from churnwatch.tools.broker import free_port
from churnwatch.tools.produce import produce, read_lines
from tests.support.cluster import (
    Cluster,
    alerts_after,
    all_detected,
    assert_equivalent,
    changelog_states,
    eventually,
)
from tests.support.logs import closing_visits, make_log, replay_alerts, replay_states, visit

DAY = 86_400.0

# What a customer's own events decide: everything but population-based classification
# (segment, tier, fired alerts: see test_replay_equivalence) and the transport offset.
OWN = ("first_seen", "first_order", "last_order", "orders", "spend", "bucket_end", "counts",
       "amounts", "usual_value", "eng_fast", "eng_slow", "eng_at", "eng_since", "promos",
       "skips", "tickets", "recent_ids", "recent_orders", "pending")


def own(state: CustomerState) -> tuple[object, ...]:
    return tuple(getattr(state, name) for name in OWN)


def matches(truth: dict[str, CustomerState]):  # type: ignore[no-untyped-def]
    return lambda states: states.keys() >= truth.keys() and all(
        own(states[c]) == own(t) for c, t in truth.items())


@pytest.mark.parametrize(("store", "hops"), [("memory", 2), ("rocksdb", 1)])
def test_a_restarted_worker_resumes_from_every_state_it_wrote(
        cluster: Cluster, tmp_path: Path, store: str, hops: int) -> None:
    """With ``rocksdb`` the second worker starts from the states the first left on disk
    (and the changelog written since), not from the whole changelog. One store on each
    path (repartitioned; straight from keyed source topics)."""
    cluster.hops(hops)
    cluster.overrides["CHURNWATCH_RUNTIME__TABLE_STORE"] = store
    log = make_log(tmp_path, customers=80, days=240)
    customers = sorted({e.customer_id for e in valid_events(log)})
    end = max(e.ts for e in valid_events(log))
    settings = cluster.settings
    # The last thing before the stop is a wave that touches every customer at once, so
    # every changelog partition ends in a batch of many states: the batch whose tail the
    # under-reported end offset cut off.
    first_part = _with_wave(log, tmp_path / "first.jsonl", customers, end, "wave1")
    first = cluster.start_worker()
    produce(read_lines(first_part), settings)
    before = replay_states(first_part, settings, finish=False)
    written = changelog_states(cluster, matches(before), timeout=120,
                               alive=lambda: first.poll() is None)
    assert matches(before)(written), _differences(before, written)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    on_disk = list(settings.runtime.data_dir.glob(f"{settings.runtime.app_id}-data/**/*.db"))
    assert bool(on_disk) == (store == "rocksdb"), on_disk

    both = _with_wave(first_part, tmp_path / "both.jsonl", customers, end + 2 * DAY, "wave2")
    second = cluster.start_worker()
    produce(read_lines(both.with_suffix(".wave2")), settings)
    after = replay_states(both, settings, finish=False)
    resumed = changelog_states(cluster, matches(after), timeout=120,
                               alive=lambda: second.poll() is None)
    assert matches(after)(resumed), f"{_differences(after, resumed)}; {cluster.progress()}"


@pytest.mark.parametrize("hops", [2, 1])
def test_a_restarted_worker_with_nothing_new_pays_the_alerts_event_time_owes(
        cluster: Cluster, tmp_path: Path, hops: int) -> None:
    """The first worker never counts a partition idle, so its event time stays short of
    the log's end: the silence alerts near the end are owed. The second worker gets
    nothing new; it reads the first one's last ticks again (sent after its last commit),
    then reports every partition idle with no event seen. Those reports once replaced
    what the old ones said, every partition's newest event was forgotten and time never
    moved again: the signature of a CI failure of the kill -9 test (tests/faults),
    where the last two alerts of the log never came."""
    cluster.hops(hops)
    log = make_log(tmp_path, customers=60, days=120)
    cluster.fit(log)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    lines = sum(1 for _ in read_lines(log))
    port = free_port()
    first = cluster.start_worker(metrics_port=port,
                                 env={"CHURNWATCH_RUNTIME__IDLE_AFTER": "86400"})
    produce(read_lines(log), cluster.settings)
    assert eventually(lambda: all_detected(port, lines), timeout=120), cluster.logs()
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    second = cluster.start_worker()
    got = alerts_after(cluster.consumer(cluster.settings.topics.recall), expected,
                       alive=lambda: second.poll() is None, progress=cluster.progress,
                       exact=True)
    assert_equivalent(expected, got, exact=True)


def _with_wave(log: Path, out: Path, customers: list[str], at: float, name: str) -> Path:
    """``log`` plus a visit by every customer at ``at`` and fillers a day later that
    move event time past them; the wave alone is also written to OUT.<name>."""
    lines = [visit(f"{name}-{c}", c, at) for c in customers]
    lines += closing_visits(f"{name}-filler", at + DAY)
    wave = b"".join(line + b"\n" for line in lines)
    out.with_suffix(f".{name}").write_bytes(wave)
    out.write_bytes(log.read_bytes() + wave)
    return out


def _differences(truth: dict[str, CustomerState], got: dict[str, CustomerState]) -> str:
    """Which customers differ from replay, and in which fields (the first few)."""
    wrong = sorted(c for c, t in truth.items() if c not in got or own(got[c]) != own(t))
    shown = [f"{c}: " + (", ".join(f"{n} {getattr(truth[c], n)!r} != {getattr(got[c], n)!r}"
                                    for n in OWN if getattr(truth[c], n) != getattr(got[c], n))
                         if c in got else "missing") for c in wrong[:3]]
    return f"{len(wrong)} of {len(truth)} customers differ from replay: " + "; ".join(shown)
