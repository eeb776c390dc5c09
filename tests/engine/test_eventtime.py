"""Event time no single customer can move: the floor, the ceiling, the clock, the quorum."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import churnwatch
from churnwatch.engine import Census, EventTimeGuard
from churnwatch.engine.eventtime import merged
from churnwatch.settings import EventTimeSettings

DAY = 86_400.0
T0 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def guard(**values: object) -> EventTimeGuard:
    return EventTimeGuard(EventTimeSettings.model_validate(values))


def test_the_floor_and_the_ceiling_refuse_with_a_reason() -> None:
    g = guard()
    assert g.refuse(T0) is None
    year_one = datetime(1, 1, 1, tzinfo=UTC).timestamp()
    assert "outside the accepted range" in (g.refuse(year_one) or "")
    assert "outside the accepted range" in (g.refuse(253402300799.0) or "")  # 9999


def test_a_live_worker_refuses_what_is_ahead_of_the_clock() -> None:
    g = guard()
    now = T0 + 100 * DAY
    assert "ahead of the clock" in (g.refuse(now + 2 * DAY, wall=now) or "")
    assert g.refuse(T0, wall=now) is None
    assert "outside the accepted range" in (g.refuse(253402300799.0, wall=now) or "")


def test_event_time_is_the_newest_time_a_quorum_of_customers_reached() -> None:
    q = Census(share=0, floor=3, window_days=30)  # the count alone
    q.observe("a", T0)
    q.observe("a", T0 + 400 * DAY)  # one customer, however often, is no quorum
    q.observe("b", T0 + 2 * DAY)
    assert q.time == -math.inf
    assert q.end() == T0 + 400 * DAY  # fewer customers than the quorum: the newest
    q.observe("c", T0 + DAY)
    assert q.time == T0 + DAY
    q.observe("d", T0 + 3 * DAY)
    assert q.time == T0 + 2 * DAY
    q.observe("c", T0 + 5 * DAY)  # c overtakes: a, c, d are the newest three
    assert q.time == T0 + 3 * DAY
    q.observe("c", T0)  # a customer's newest time never goes back
    assert q.time == T0 + 3 * DAY and q.newest == T0 + 400 * DAY
    assert sorted(q.pairs()) == [("a", T0 + 400 * DAY), ("b", T0 + 2 * DAY),
                                 ("c", T0 + 5 * DAY), ("d", T0 + 3 * DAY)]


def test_event_time_needs_a_share_of_the_customers_active_recently() -> None:
    """100 customers, 9 of them far ahead: a tenth is 10, so the group is not enough and
    event time is the newest real customer's. Eleven of 102 are more than a tenth: the
    group is then the customers active at its time, and event time follows it."""
    q = Census(share=0.1, floor=3, window_days=30)
    for n in range(91):
        q.observe(f"c{n}", T0 + n * 3600)
    for n in range(9):
        q.observe(f"ahead{n}", T0 + 240 * DAY)
    assert q.time == T0 + 90 * 3600
    q.observe("ahead9", T0 + 240 * DAY)
    assert q.time == T0 + 90 * 3600  # 10 of 101: still less than a tenth
    q.observe("ahead10", T0 + 240 * DAY)
    assert q.time == T0 + 240 * DAY


def test_a_share_of_those_active_before_a_long_quiet_must_come_back() -> None:
    """Twenty customers seen a year ago, then a few: time waits until a share of those
    active at the time it would reach have reached it. Four of 24 are not a fifth; with
    five, the five are everyone active within 30 days of their time, and two of them
    are enough. With a window of 400 days the twenty old ones still count: all five."""
    q = Census(share=0.2, floor=2, window_days=30)
    for n in range(20):
        q.observe(f"old{n}", T0)
    for n in range(4):
        q.observe(f"new{n}", T0 + 365 * DAY + n * 3600)
    assert q.time == T0
    q.observe("new4", T0 + 365 * DAY + 4 * 3600)
    assert q.time == T0 + 365 * DAY + 3 * 3600  # the second newest
    wide = Census(share=0.2, floor=2, window_days=400, pairs=q.pairs())
    assert wide.time == T0 + 365 * DAY  # the fifth newest


def test_an_early_event_waits_for_event_time_and_loses_nothing() -> None:
    early = {"kind": "order", "event_id": "early", "customer_id": "fast-clock",
             "occurred_at": "2024-03-01T00:00:00Z", "order_id": "o-early", "amount": 10.0}
    log = churnwatch.EventLog()
    for c in ("a", "b", "c"):
        log.orders(c, days=[0, 10, 20, 30, 40, 50, 60, 70])
    lines = [orjson.dumps(e) for e in sorted(log.events, key=lambda e: e["occurred_at"])]
    held = churnwatch.replay([*lines[:2], orjson.dumps(early), *lines[2:]])
    assert held.dead_letters == [] and held.counts.out_of_time == 0
    assert held.counts.late == 0
    assert held.customer("fast-clock").frequency == 1  # applied once time reached it
    without = churnwatch.replay(lines)
    for c in ("a", "b", "c"):
        assert held.alerts_for(c) == without.alerts_for(c)


def test_a_customer_holds_at_most_max_held_events_ahead_of_event_time() -> None:
    log = churnwatch.EventLog()
    for c in ("a", "b", "c"):
        log.orders(c, days=[0, 1])
    for n in range(8):
        log.visits("fast-clock", days=[300 + n])
    result = churnwatch.replay(log.events, settings={"detection": {"event_time": {
        "max_held": 5}}})
    assert [d.line for d in result.dead_letters] == [12, 13, 14]
    assert all("already has 5 events waiting" in d.reason for d in result.dead_letters)
    assert result.counts.out_of_time == 3 and result.counts.accepted == 11
    assert result.alerts == churnwatch.replay(log.events[:6]).alerts


@pytest.mark.parametrize("gap", [300, 750])
def test_a_quiet_period_of_any_length_ends_when_a_quorum_comes_back(gap: int) -> None:
    """A shop closed for ``gap`` days: nothing is refused, the first two customers back
    wait, and time moves on once the third is back."""
    log = churnwatch.EventLog()
    for c in ("a", "b", "c"):
        log.orders(c, days=[0, 10, 20])
    for day in (gap, gap + 1):
        for c in ("a", "b", "c"):
            log.order(c, day=day)
    result = churnwatch.replay(log.events)
    assert result.dead_letters == []
    assert result.counts.accepted == 15 and result.counts.late == 0
    assert all("recovered" in result.signals_for(c) for c in "abc")


def test_the_cli_reports_and_dead_letters_a_refused_time(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from churnwatch.cli import main

    log = churnwatch.EventLog().orders("c1", days=[0, 10, 20]).write(tmp_path / "log.jsonl")
    with log.open("ab") as f:
        f.write(b'{"kind":"engagement","event_id":"x","customer_id":"c2",'
                b'"occurred_at":"9999-12-31T23:59:59Z","action":"visit"}\n')
    dl = tmp_path / "dl.jsonl"
    result = CliRunner().invoke(main, ["replay", str(log), "--alerts", str(tmp_path / "a"),
                                       "--customers", str(tmp_path / "c"),
                                       "--dead-letter", str(dl)])
    assert result.exit_code == 0, result.output
    assert "1 out of time" in result.stderr
    row = orjson.loads(dl.read_bytes())
    assert row["line"] == 4 and "outside the accepted range" in row["reason"]


TIMES = st.lists(st.tuples(st.integers(0, 60), st.floats(T0, T0 + 200 * DAY)), max_size=120)


@settings(max_examples=300, deadline=None)
@given(seen=TIMES, parts=st.integers(1, 5), share=st.sampled_from([0, 0.05, 0.1, 0.3]),
       window=st.sampled_from([0, 7, 30]), cut=st.floats(T0, T0 + 210 * DAY))
def test_partitions_merged_give_the_whole_census_answer_or_less(
        seen: list[tuple[int, float]], parts: int, share: float, window: int,
        cut: float) -> None:
    """Customers split over partitions as a worker's are: merged summaries give exactly
    the whole census's event time when they say they are certain (always when every
    list is whole), and a lower bound when not, never more."""
    whole = Census(share, 3, window)
    split = [Census(share, 3, window) for _ in range(parts)]
    for customer, ts in seen:
        whole.observe(f"c{customer}", ts)
        split[customer % parts].observe(f"c{customer}", ts)
    rule = EventTimeSettings(share=share, quorum=3, active_days=window)
    full = merged((c.summary(-math.inf) for c in split), rule)
    assert (full.time, full.end, full.certain) == (whole.time, whole.end(), True)
    cut_short = merged((c.summary(cut) for c in split), rule)
    assert cut_short.time <= whole.time
    if cut_short.certain:
        assert (cut_short.time, cut_short.end) == (whole.time, whole.end())
    else:
        assert cut_short.since <= whole.time


@settings(max_examples=500, deadline=None)
@given(seed=st.integers(0, 2**32))
@example(seed=95)  # a customer back after the window, behind event time: it lowers it
def test_event_time_kept_between_lines_is_the_one_found_from_scratch(seed: int) -> None:
    """The census keeps its answer, or the start of its next climb, across a customer's
    move (``Census._moved``); asked after any line, it must say what a census given the
    same times all at once finds by climbing from the start of time. Few customers, half
    days over three weeks and high shares, so customers come back after the window and
    move the others' needs (drawn from a seed: hypothesis's own draws seldom did)."""
    draw = random.Random(seed)
    share, window = draw.choice([0.1, 0.3, 0.5]), draw.choice([0, 1, 3])
    census = Census(share, 3, window)
    for _ in range(draw.randint(5, 40)):
        census.observe(f"c{draw.randint(0, 15)}", T0 + draw.randint(0, 40) * DAY / 2
                       + draw.random())
        if draw.random() < 0.5:
            fresh = Census(share, 3, window, census.pairs())
            assert census.time == fresh.time
    assert census.time == Census(share, 3, window, census.pairs()).time
