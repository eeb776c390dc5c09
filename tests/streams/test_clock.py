"""The event-time watermark built from ingest ticks (pure logic, no broker)."""

from __future__ import annotations

import math

import orjson

from churnwatch.streams.clock import SourceClock, SourceProgress, heard_pairs

ALL = frozenset({"orders/0", "orders/1", "engagement/0", "engagement/1"})


def tick(**sources: tuple[float | None, bool]) -> bytes:
    """A tick in which each source's newest time was reached by three customers."""
    return orjson.dumps({k.replace("_", "/"): [
        at, idle, [] if at is None else [[f"{k}-{i}", at] for i in range(3)]]
        for k, (at, idle) in sources.items()})


def customers(**sources: tuple[dict[str, float], bool]) -> bytes:
    """A tick naming each source's customers and their newest times."""
    return orjson.dumps({k.replace("_", "/"): [
        max(times.values()), idle, [[c, t] for c, t in times.items()]]
        for k, (times, idle) in sources.items()})


def test_time_stands_still_until_every_source_partition_has_reported() -> None:
    """Two workers: the first share reported is far ahead of the second, which still
    holds old events. Moving on the first share alone would make those events late."""
    clock = SourceClock(lateness=10, expected=ALL, quorum=3)
    clock.report(tick(orders_0=(5_000, False), engagement_0=(5_000, False)))
    assert clock.watermark() == -math.inf
    clock.report(tick(orders_1=(100, False), engagement_1=(200, False)))
    assert clock.watermark() == 90


def test_a_partition_that_has_seen_nothing_holds_time_back() -> None:
    clock = SourceClock(lateness=0, expected=ALL, quorum=3)
    clock.report(tick(orders_0=(5, False), orders_1=(6, False), engagement_0=(7, False),
                      engagement_1=(None, False)))
    assert clock.watermark() == -math.inf


def test_idle_partitions_stop_holding_back_and_all_idle_means_all_seen() -> None:
    clock = SourceClock(lateness=1, expected=ALL, quorum=3)
    clock.report(tick(orders_0=(50, False), orders_1=(10, True), engagement_0=(40, False),
                      engagement_1=(None, True)))
    assert clock.watermark() == 39
    clock.report(tick(orders_0=(50, True), engagement_0=(40, True)))
    assert clock.watermark() == 49


def test_the_new_owner_replaces_the_old_report() -> None:
    clock = SourceClock(lateness=0, expected=ALL, quorum=3)
    clock.report(tick(orders_0=(50, False), orders_1=(60, False), engagement_0=(70, False),
                      engagement_1=(80, False)))
    assert clock.watermark() == 50
    clock.report(tick(orders_0=(20, False)))  # re-reading from the last commit
    assert clock.watermark() == 20


def test_a_new_owner_that_has_seen_nothing_keeps_what_the_old_one_reported() -> None:
    """A worker killed moments after it forwarded the newest event of engagement/0 (the
    filler a day after the rest, in the crash test); the restarted worker resumes past it
    and sees nothing new there. Forgetting the old report held time a day short for good:
    the last two alerts of the log never came (CI, the kill -9 test, now in tests/faults)."""
    clock = SourceClock(lateness=1, expected=ALL, quorum=3)
    clock.report(tick(orders_0=(50, False), orders_1=(60, False), engagement_0=(900, False),
                      engagement_1=(80, False)))
    assert clock.watermark() == 49
    clock.report(tick(orders_0=(55, True), orders_1=(60, True), engagement_0=(None, True),
                      engagement_1=(None, True)))  # the restarted worker, all done
    assert clock.watermark() == 899


def test_a_restarted_owner_with_nothing_new_releases_what_its_detector_holds() -> None:
    """The previous owner's ticks were all committed, so the restarted worker never reads
    them: every report says "nothing seen". What the restored customer states hold (up
    to event time 900) was all seen; without it time stood still for good (a fresh-clone
    run of the "nothing new" restart test: one events partition never got a watermark)."""
    idle = {s.replace("/", "_"): (None, True) for s in ALL}
    forgetful = SourceClock(lateness=1, expected=ALL, quorum=3)
    forgetful.report(tick(**idle))
    assert forgetful.watermark() == -math.inf
    clock = SourceClock(lateness=1, expected=ALL, quorum=3,
                        restored=[("a", 900), ("b", 900), ("c", 900)])
    clock.report(tick(**idle))
    assert clock.watermark() == 899
    clock.report(tick(orders_0=(950, True)))
    assert clock.watermark() == 949


def test_a_new_owner_reaches_what_the_old_clock_had_heard_of() -> None:
    """The lost worker's ticks named the newest customers (other partitions' customers,
    at 900) and were committed; the survivor reads nothing new and restores this
    partition's own customers (at 500). Holding only those, its clock ended at 500 for
    good and a silence alert due at 700 never came (the takeover test in tests/faults,
    3 of 10 runs under load). Holding what the old clock had heard of, it ends at 900 as
    the old clock and replay do."""
    old = SourceClock(lateness=1, expected=ALL, quorum=3)
    old.report(customers(orders_0=({"x": 900, "y": 900, "z": 900}, False),
                         orders_1=({"a": 500}, False), engagement_0=({"b": 500}, False),
                         engagement_1=({"c": 500}, False)))
    idle = {s.replace("/", "_"): (None, True) for s in ALL}
    old.report(tick(**idle))
    assert old.watermark() == 899
    own = [("a", 500), ("b", 500), ("c", 500)]
    forgetful = SourceClock(lateness=1, expected=ALL, quorum=3, restored=own)
    forgetful.report(tick(**idle))
    assert forgetful.watermark() == 499
    new = SourceClock(lateness=1, expected=ALL, quorum=3, restored=own + heard_pairs(old.heard()))
    new.report(tick(**idle))
    assert new.watermark() == 899
    assert heard_pairs(None) == []


def test_a_partition_added_later_is_waited_for_once_mentioned() -> None:
    clock = SourceClock(lateness=0, expected=ALL, quorum=3)
    clock.report(tick(orders_0=(50, False), orders_1=(60, False), engagement_0=(70, False),
                      engagement_1=(80, False), orders_2=(30, False)))
    assert clock.watermark() == 30


def test_nothing_expected_means_no_time() -> None:
    assert SourceClock(lateness=0, expected=(), quorum=3).watermark() == -math.inf


def test_progress_is_idle_only_when_quiet_and_caught_up() -> None:
    progress = SourceProgress(idle_after=2, quorum=3, started=0)
    progress.touch("orders/0", offset=9, wall=100)
    progress.observe("orders/0", 1234.0, "c1")
    ends: dict[str, int | None] = {"orders/0": 10, "orders/1": None, "engagement/0": 3}
    report = orjson.loads(progress.tick(ends, wall=103))
    assert report == {"orders/0": [1234.0, True, [["c1", 1234.0]]],  # quiet 3 s, at the end
                      "orders/1": [None, False, []],  # end unknown: never caught up
                      "engagement/0": [None, False, []]}  # 3 messages not yet taken
    assert orjson.loads(progress.tick(ends, wall=101))["orders/0"][:2] == [
        1234.0, False]


def test_progress_names_the_customers_with_the_newest_times_per_source() -> None:
    progress = SourceProgress(idle_after=2, quorum=2, started=0)
    for customer, at in (("a", 5.0), ("b", 9.0), ("a", 7.0), ("c", 8.0), ("b", 1.0)):
        progress.observe("orders/0", at, customer)
    report = orjson.loads(progress.tick({"orders/0": 10}, wall=0))
    assert report["orders/0"] == [9.0, False, [["b", 9.0], ["c", 8.0]]]


def test_one_customer_far_ahead_moves_no_watermark_even_with_the_rest_idle() -> None:
    """A device with its clock months fast, alone on its partition while the others are
    quiet: the slowest active partition is that one, but three customers vouch only for
    the time the others reached."""
    clock = SourceClock(lateness=1, expected=ALL, quorum=3)
    clock.report(customers(orders_0=({"a": 50, "b": 48}, True),
                           orders_1=({"c": 45, "d": 47}, True),
                           engagement_0=({"fast": 9_000_000}, False),
                           engagement_1=({"a": 49}, True)))
    assert clock.watermark() == 47  # a 50, b 48, d 47 (fast does not count alone)
    clock.report(customers(engagement_0=({"fast": 9_000_000, "e": 60}, True)))
    assert clock.watermark() == 49  # all idle: the quorum's time, e 60, a 50, b 48
    assert clock.event_time() == 50


def test_a_tick_without_customers_moves_no_time() -> None:
    """An older worker's tick (no customers in it) vouches for nothing: time waits for
    reports that name customers (a rolling upgrade delays alerts, loses none)."""
    clock = SourceClock(lateness=0, expected={"orders/0"}, quorum=3)
    clock.report(orjson.dumps({"orders/0": [50, False]}))
    assert clock.watermark() == -math.inf
    clock.report(tick(orders_0=(50, False)))
    assert clock.watermark() == 50


def test_a_partition_with_nothing_new_after_a_restart_is_caught_up() -> None:
    """A restarted worker takes in no message from a partition whose committed offset is
    its end: without the offset it resumed from, it was never idle, and time stalled."""
    progress = SourceProgress(idle_after=2, quorum=3, started=0)
    ends = {"orders/0": 500, "orders/1": 700}
    stalled = orjson.loads(progress.tick(ends, wall=10))
    assert stalled["orders/0"] == [None, False, []]
    report = orjson.loads(progress.tick(ends, wall=10,
                                        committed={"orders/0": 500, "orders/1": 650}))
    assert report["orders/0"] == [None, True, []]
    assert report["orders/1"] == [None, False, []]  # still 50 messages to read


def test_one_hop_hears_of_its_own_sources_only_where_it_reads_them() -> None:
    """One hop: the previous owner of orders/0 and engagement/0 ticked 900 for them
    before it lost the partition, past the committed offset this owner reads again from.
    Trusted, that tick made every re-read event late (seen: 435 refused in one
    rebalance); this clock takes its own sources from its own reading (``local``)."""
    own = {"orders/0", "engagement/0"}
    clock = SourceClock(lateness=0, expected=ALL, quorum=3, own=own)
    clock.report(tick(orders_0=(900, False), engagement_0=(900, False),
                      orders_1=(1_000, False), engagement_1=(1_000, False)))
    assert clock.watermark() == -math.inf  # nothing read here yet
    clock.report(tick(orders_0=(500, False), engagement_0=(400, False),
                      orders_1=(9, False)), local=True)  # orders/1 is not its own
    assert clock.watermark() == 400
