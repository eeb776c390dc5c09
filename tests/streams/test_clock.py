"""The event-time watermark built from ticks (pure logic, no broker)."""

from __future__ import annotations

import math

import orjson

from churnwatch.engine import Census as CustomerTimes
from churnwatch.settings import EventTimeSettings
from churnwatch.streams.clock import Census, SourceClock, SourceProgress, tick_body

ALL = frozenset({"orders/0", "orders/1", "engagement/0", "engagement/1"})
RULE = EventTimeSettings()  # a tenth of those active, and at least 3


def clock(lateness: float = 0, expected: frozenset[str] = ALL, partitions: int = 2,
          own: frozenset[str] = frozenset()) -> SourceClock:
    return SourceClock(lateness, expected, partitions, RULE, own=own)


def sources(**progress: tuple[float | None, bool]) -> dict[str, list[object]]:
    return {k.replace("_", "/"): [at, idle, 0, None, None] for k, (at, idle) in progress.items()}


def census(times: dict[str, float], settled: int | None = None,
           since: float = -math.inf) -> Census:
    """A detect partition's census of these customers' newest times."""
    c = CustomerTimes(RULE.share, RULE.quorum, RULE.active_days, times.items())
    return Census(settled, c.summary(since))


def crowd(at: float, n: int = 3, name: str = "c") -> dict[str, float]:
    return {f"{name}{i}": at for i in range(n)}


def told(c: SourceClock, *partitions: dict[str, float], settled: int | None = None) -> None:
    """Every detect partition's census, read from ticks."""
    c.report(tick_body({}, {p: census(t, settled) for p, t in enumerate(partitions)}))


def test_time_stands_still_until_every_source_partition_has_reported() -> None:
    """Two workers: the first share reported is far ahead of the second, which still
    holds old events. Moving on the first share alone would make those events late."""
    c = clock(lateness=10)
    told(c, crowd(5_000), crowd(200, name="d"))
    c.sources(sources(orders_0=(5_000, False), engagement_0=(5_000, False)))
    assert c.watermark() == -math.inf
    c.sources(sources(orders_1=(100, False), engagement_1=(200, False)))
    assert c.watermark() == 90


def test_time_stands_still_until_every_detect_partition_has_told_its_census() -> None:
    """A detect partition not heard from may hold customers far behind everyone else's."""
    c = clock()
    c.sources(sources(orders_0=(50, False), orders_1=(60, False), engagement_0=(70, False),
                      engagement_1=(80, False)))
    c.report(tick_body({}, {0: census(crowd(500))}))
    assert c.watermark() == -math.inf
    c.report(tick_body({}, {1: census(crowd(40, name="d"))}))
    assert c.watermark() == 50


def test_a_partition_that_has_seen_nothing_holds_time_back() -> None:
    c = clock()
    told(c, crowd(9), crowd(9, name="d"))
    c.sources(sources(orders_0=(5, False), orders_1=(6, False), engagement_0=(7, False),
                      engagement_1=(None, False)))
    assert c.watermark() == -math.inf


def test_idle_partitions_stop_holding_back_and_all_idle_means_all_seen() -> None:
    c = clock(lateness=1)
    c.sources(sources(orders_0=(50, False), orders_1=(10, True), engagement_0=(40, False),
                      engagement_1=(None, True)))
    told(c, {"a": 50.0, "b": 50.0, "c": 45.0}, {"d": 40.0})
    assert c.watermark() == 39  # engagement/0 at 40 is the slowest; the census says 45
    c.sources(sources(orders_0=(50, True), engagement_0=(40, True)))
    assert c.watermark() == 44
    few = clock(lateness=1)  # fewer customers than the quorum: the end is the newest time
    few.sources(sources(**{s.replace("/", "_"): (50, True) for s in ALL}))
    told(few, {"a": 50.0}, {"d": 40.0})
    assert few.watermark() == -math.inf  # idle, but the censuses were not taken idle
    told(few, {"a": 50.0}, {"d": 40.0}, settled=few.settled())
    assert few.watermark() == 49


def test_a_census_taken_before_the_sources_last_moved_is_not_the_end() -> None:
    """Settled where the sources stood then: more has been read since, which that
    partition may not have taken in yet."""
    c = clock(lateness=0)
    idle = {s.replace("/", "_"): (None, True) for s in ALL}
    c.sources(sources(**idle))
    told(c, {"a": 50.0}, {"d": 90.0}, settled=c.settled())
    assert c.watermark() == 90  # two customers: all read, the newest
    c.sources({"orders/0": [None, True, 7, None, None]})  # seven more read on orders/0
    assert c.watermark() == -math.inf


def test_the_new_owner_replaces_the_old_report() -> None:
    c = clock()
    told(c, crowd(500), crowd(500, name="d"))
    c.sources(sources(orders_0=(50, False), orders_1=(60, False), engagement_0=(70, False),
                      engagement_1=(80, False)))
    assert c.watermark() == 50
    c.sources(sources(orders_0=(20, False)))  # re-reading from the last commit
    assert c.watermark() == 20


def test_a_new_owner_that_has_seen_nothing_keeps_what_the_old_one_reported() -> None:
    """A worker killed moments after it forwarded the newest event of engagement/0 (the
    filler a day after the rest, in the crash test); the restarted worker resumes past it
    and sees nothing new there. Forgetting the old report held time a day short for good:
    the last two alerts of the log never came (CI, the kill -9 test, now in tests/faults)."""
    c = clock(lateness=1)
    told(c, crowd(900), crowd(900, name="d"))
    c.sources(sources(orders_0=(50, False), orders_1=(60, False), engagement_0=(900, False),
                      engagement_1=(80, False)))
    assert c.watermark() == 49
    c.sources(sources(orders_0=(55, True), orders_1=(60, True), engagement_0=(None, True),
                      engagement_1=(None, True)))  # the restarted worker, all done
    told(c, crowd(900), crowd(900, name="d"), settled=c.settled())
    assert c.watermark() == 899


def test_a_taken_over_partition_ends_where_replay_does() -> None:
    """The lost worker's customers (at 900) and the survivor's (at 500): the survivor
    adopts the lost partition and tells its census from the restored states, so its
    clock ends at 900 as replay does. (Before, the survivor's clock restored only its
    partition's own customers and ended at 500: the takeover test in tests/faults lost a
    silence alert due at 700 in 3 of 10 runs under load.)"""
    c = clock(lateness=1)
    idle = {s.replace("/", "_"): (None, True) for s in ALL}
    c.sources(sources(**idle))
    c.census(0, census(crowd(500), c.settled()))  # its own, straight from its detector
    assert c.watermark() == -math.inf  # partition 1's census not heard of yet
    c.census(1, census(crowd(900, name="d"), c.settled()))  # adopted from the lost one
    assert c.watermark() == 899


def test_a_partition_added_later_is_waited_for_once_mentioned() -> None:
    c = clock()
    told(c, crowd(500), crowd(500, name="d"))
    c.sources(sources(orders_0=(50, False), orders_1=(60, False), engagement_0=(70, False),
                      engagement_1=(80, False), orders_2=(30, False)))
    assert c.watermark() == 30


def test_nothing_expected_means_no_time() -> None:
    assert clock(expected=frozenset()).watermark() == -math.inf


def test_progress_is_idle_only_when_quiet_and_caught_up() -> None:
    progress = SourceProgress(idle_after=2, started=0, rule=RULE)
    progress.touch("orders/0", offset=9, wall=100)
    progress.observe("orders/0", 1234.0, "c1")
    ends: dict[str, int | None] = {"orders/0": 10, "orders/1": None, "engagement/0": 3}
    report = progress.tick(ends, wall=103, fetched={"orders/0": 102.5})
    assert report == {"orders/0": [1234.0, True, 10, 102.5, 100],  # quiet 3 s, at the end
                      "orders/1": [None, False, 0, None, None],  # end unknown
                      "engagement/0": [None, False, 0, None, None]}  # 3 not yet taken
    assert progress.tick(ends, wall=101)["orders/0"][:2] == [1234.0, False]


def test_a_small_group_far_ahead_moves_no_watermark_even_with_the_rest_idle() -> None:
    """Devices with their clocks months fast, alone on their partition while the others
    are quiet: the slowest active partition is theirs, but they are fewer than a tenth
    of the customers active, so event time is the others'."""
    c = clock(lateness=1)
    real = {f"c{i}": 50.0 - i for i in range(40)}
    fast = {f"fast{i}": 9_000_000.0 for i in range(3)}
    c.sources(sources(orders_0=(50, True), orders_1=(45, True), engagement_0=(9_000_000, False),
                      engagement_1=(49, True)))
    told(c, real, fast)
    assert c.watermark() == 48  # a tenth of 43 is 5: the three fast, c0 at 50, c1 at 49
    c.sources(sources(engagement_0=(9_000_000, True)))
    told(c, real, fast, settled=c.settled())
    assert c.watermark() == 48 and c.event_time() == 49


def test_a_census_listing_too_little_is_a_lower_bound_until_more_is_asked_for() -> None:
    """Each partition lists its customers from a little before its own answer; where the
    merged answer lies further back the clock cannot know it exactly: it stays below,
    and asks for lists from there."""
    c = clock(lateness=0)
    idle = {s.replace("/", "_"): (None, True) for s in ALL}
    c.sources(sources(**idle))
    near = {f"a{i}": 100.0 + i for i in range(10)}
    far = {f"b{i}": 10.0 + i for i in range(10)}
    mark = c.settled()
    c.report(tick_body({}, {0: census(near, mark, since=108), 1: census(far, mark, since=15)}))
    assert c.watermark() == 0 == c.wanted_since()  # the start of their day
    c.report(tick_body({}, {0: census(near, mark, since=c.wanted_since()),
                            1: census(far, mark, since=c.wanted_since())}))
    assert c.watermark() == 107 and c.wanted_since() == math.inf  # the third newest, a7


def test_after_a_pause_a_partition_is_idle_only_when_quiet_again_after_the_burst_began(
        ) -> None:
    """Everything read, then a burst of history: orders/0 takes its first record in at
    wall time 500. The others were fetched at 499.8, before the burst reached them: they
    only seem idle. A fetch after 500 that finds nothing new is not enough either (the
    producer may reach them a moment later): they hold time back until they have been
    quiet for ``idle_after`` (2 s) since the burst began."""
    now = [500.2]
    c = SourceClock(0, ALL, 2, RULE, idle_after=2, wall=lambda: now[0])
    told(c, crowd(5_000), crowd(5_000, name="d"))
    c.sources({s: [100.0, True, 9, 499.8, None] for s in ALL})  # all read: a pause
    c.sources({"orders/0": [4_000.0, False, 12, 500.1, 500.0]})
    assert c.watermark() == 100  # the others hold time where they were
    now[0] = 500.5
    c.sources({s: [100.0, True, 9, 500.4, None] for s in ALL - {"orders/0"}})
    assert c.watermark() == 100  # fetched after the burst, but quiet for 0.5 s only
    now[0] = 502.1
    assert c.watermark() == 4_000  # quiet for 2 s since: idle, with no new tick needed


def test_in_steady_traffic_a_resume_does_not_hold_back_a_partition_that_stays_empty(
        ) -> None:
    """Sparse traffic: orders/1 and engagement/1 are read out (one never had a record),
    while the others go quiet and resume now and then; nothing ever paused as a whole, so
    the read-out partitions do not hold time back at each resume (they would for good)."""
    now = [100.0]
    c = SourceClock(0, ALL, 2, RULE, idle_after=2, wall=lambda: now[0])
    told(c, crowd(5_000), crowd(5_000, name="d"))
    c.sources({"orders/1": [None, True, 0, 99.5, None],
               "engagement/1": [50.0, True, 3, 99.5, None],
               "orders/0": [300.0, False, 5, 99.9, 90.0],
               "engagement/0": [350.0, False, 7, 99.9, 95.0]})
    assert c.watermark() == 300
    now[0] = 100.5
    c.sources({"orders/0": [400.0, False, 6, 100.4, 100.3],  # resumed after a quiet spell
               "orders/1": [None, True, 0, 100.4, None],
               "engagement/1": [50.0, True, 3, 100.4, None]})
    assert c.watermark() == 350


def test_a_record_beyond_an_idle_report_makes_its_source_wait_for_a_newer_report(
        ) -> None:
    """Two hops: every source reported idle and read out at offset 9, then a burst. The
    detector reads engagement/0's records 9 and 10, and its own partition's census (given
    to the clock at once, not through the topic) shows where they took its customers. The
    report saying engagement/0 resumed is still behind them in the topic: until it comes,
    engagement/0 holds event time where it last stood, or records the ingest stage has not
    forwarded yet (orders/0's, of the same customers) would be late."""
    now = [500.0]
    c = SourceClock(0, ALL, 2, RULE, idle_after=2, wall=lambda: now[0])
    c.sources({s: [100.0, True, 9, 499.8, None] for s in ALL})  # all read: a pause
    told(c, crowd(100), crowd(100, name="d"), settled=c.settled())
    assert c.watermark() == 100
    c.arrived("engagement/0", 8)  # one the last report had taken in already: no news
    c.arrived("engagement/0", 9)
    c.arrived("engagement/0", 10)
    c.census(0, census(crowd(5_000), settled=c.settled()))
    assert c.watermark() == 100  # before: the census's 5,000 with every source "idle"
    now[0] = 500.3
    c.sources({"engagement/0": [4_000.0, False, 11, 500.2, 500.1]})  # the report, at last
    c.census(1, census(crowd(5_000, name="d")))
    assert c.watermark() == 100  # woken up: the quiet ones wait idle_after again
    now[0] = 502.5
    c.sources({s: [100.0, True, 9, 502.4, None] for s in ALL - {"engagement/0"}})
    assert c.watermark() == 4_000


def test_a_source_reports_the_time_a_share_of_its_customers_reached() -> None:
    """Not its newest event: a group with clocks months fast on every source partition
    would then hold nothing back, and the events behind them still on their way would
    come late."""
    progress = SourceProgress(idle_after=2, started=0, rule=RULE)
    for n in range(40):
        progress.observe("orders/0", 1_000.0 + n, f"c{n}")
    for n in range(3):
        progress.observe("orders/0", 9_000_000.0, f"fast{n}")
    assert progress.tick({"orders/0": 43}, wall=0)["orders/0"][0] == 1_038.0  # 5th newest


def test_progress_says_when_a_quiet_partition_resumed() -> None:
    progress = SourceProgress(idle_after=2, started=0, rule=RULE)
    progress.touch("orders/0", offset=0, wall=1)  # the first: it resumed
    progress.touch("orders/0", offset=1, wall=2)
    assert progress.tick({"orders/0": 2}, wall=2)["orders/0"][4] == 1
    progress.touch("orders/0", offset=2, wall=10)  # after 8 s of quiet
    assert progress.tick({"orders/0": 3}, wall=10)["orders/0"][4] == 10


def test_a_partition_with_nothing_new_after_a_restart_is_caught_up() -> None:
    """A restarted worker takes in no message from a partition whose committed offset is
    its end: without the offset it resumed from, it was never idle, and time stalled."""
    progress = SourceProgress(idle_after=2, started=0, rule=RULE)
    ends = {"orders/0": 500, "orders/1": 700}
    stalled = progress.tick(ends, wall=10)
    assert stalled["orders/0"][:3] == [None, False, 0]
    report = progress.tick(ends, wall=10, committed={"orders/0": 500, "orders/1": 650})
    assert report["orders/0"][:3] == [None, True, 500]
    assert report["orders/1"][:3] == [None, False, 650]  # still 50 messages to read


def test_one_hop_hears_of_its_own_sources_only_where_it_reads_them() -> None:
    """One hop: the previous owner of orders/0 and engagement/0 ticked 900 for them
    before it lost the partition, past the committed offset this owner reads again from.
    Trusted, that tick made every re-read event late (seen: 435 refused in one
    rebalance); this clock takes its own sources from its own reading (``local``)."""
    c = clock(own=frozenset({"orders/0", "engagement/0"}))
    told(c, crowd(2_000), crowd(2_000, name="d"))
    c.report(tick_body(sources(orders_0=(900, False), engagement_0=(900, False),
                               orders_1=(1_000, False), engagement_1=(1_000, False)), {}))
    assert c.watermark() == -math.inf  # nothing read here yet
    c.sources(sources(orders_0=(500, False), engagement_0=(400, False), orders_1=(9, False)),
              local=True)  # orders/1 is not its own
    assert c.watermark() == 400


def test_a_tick_is_json_with_sources_and_censuses() -> None:
    body = orjson.loads(tick_body(sources(orders_0=(5, True)), {1: census({"a": 5.0}, 7)}))
    assert body == {"sources": {"orders/0": [5, True, 0, None, None]},
                    "censuses": {"1": [7, [[5.0], None, [[0, 1]], 1]]}}
