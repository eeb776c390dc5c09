"""Event time no single customer can move: the floor, the ceiling, the clock, the quorum."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

import churnwatch
from churnwatch.engine import EventTimeGuard, Quorum
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
    q = Quorum(3)
    q.observe("a", T0)
    q.observe("a", T0 + 400 * DAY)  # one customer, however often, is no quorum
    q.observe("b", T0 + 2 * DAY)
    assert q.time == -math.inf and not q.reached
    assert q.end() == T0 + 400 * DAY  # fewer customers than the quorum: the newest
    q.observe("c", T0 + DAY)
    assert q.time == T0 + DAY
    q.observe("d", T0 + 3 * DAY)
    assert q.time == T0 + 2 * DAY
    q.observe("c", T0 + 5 * DAY)  # c overtakes: a, c, d are the newest three
    assert q.time == T0 + 3 * DAY
    assert q.newest == T0 + 400 * DAY
    merged = Quorum(3, [*q.pairs(), ("e", T0 + 4 * DAY), ("a", T0)])
    assert merged.time == T0 + 4 * DAY and merged.pairs()[0] == ("a", T0 + 400 * DAY)


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
