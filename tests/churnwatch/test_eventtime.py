"""One unbelievable timestamp never moves event time: no late events, no alert storm."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import churnwatch
from churnwatch.config import EventTimeSettings
from churnwatch.eventtime import PATIENCE, EventTimeGuard
from churnwatch.generate import generate

DAY = 86_400.0
T0 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def guard(**values: object) -> EventTimeGuard:
    return EventTimeGuard(EventTimeSettings.model_validate(values))


def test_the_floor_and_the_ceiling_refuse_with_a_reason() -> None:
    g = guard()
    assert g.refuse(T0, "c1") is None
    year_one = datetime(1, 1, 1, tzinfo=UTC).timestamp()
    assert "outside the accepted range" in (g.refuse(year_one, "c2") or "")
    assert "outside the accepted range" in (g.refuse(253402300799.0, "c3") or "")  # 9999
    assert g.newest == T0


def test_an_event_far_ahead_is_refused_and_does_not_move_time() -> None:
    g = guard()
    g.refuse(T0, "c1")
    why = g.refuse(T0 + 400 * DAY, "c2")
    assert why is not None and "more than 365 days ahead" in why
    assert g.newest == T0
    assert g.refuse(T0 + 200 * DAY, "c3") is None  # within the bound: time moves
    assert g.newest == T0 + 200 * DAY


def test_a_quiet_period_ends_once_enough_customers_agree() -> None:
    g = guard(quorum=3)
    g.refuse(T0, "c1")
    after = T0 + 400 * DAY
    assert g.refuse(after, "a") is not None
    assert g.refuse(after + 1, "a") is not None  # the same customer is no quorum
    assert g.refuse(after + 2, "b") is not None
    assert g.refuse(after + 3, "c") is None
    assert g.newest == after + 3
    assert g.refuse(after + 4, "a") is None


def test_lone_outliers_are_forgotten_and_never_add_up_to_a_quorum() -> None:
    g = guard(quorum=2)
    g.refuse(T0, "c1")
    assert g.refuse(T0 + 400 * DAY, "bad-1") is not None
    for n in range(PATIENCE):
        assert g.refuse(T0 + n, f"c{n}") is None
    assert g.refuse(T0 + 800 * DAY, "bad-2") is not None  # bad-1 was forgotten
    assert g.newest < T0 + DAY


def test_patience_counts_from_the_first_outlier_after_a_quorum() -> None:
    g = guard(quorum=2)
    g.refuse(T0, "c1")
    assert g.refuse(T0 + 400 * DAY, "a") is not None
    for n in range(PATIENCE // 2):
        g.refuse(T0 + n, f"c{n}")
    assert g.refuse(T0 + 400 * DAY, "b") is None  # quorum: time moved on
    assert g.refuse(T0 + 800 * DAY, "bad-1") is not None
    for n in range(PATIENCE - 1):
        g.refuse(T0 + 400 * DAY + n, f"d{n}")
    assert g.refuse(T0 + 800 * DAY, "bad-2") is None  # bad-1 still remembered: a quorum


def test_live_input_is_checked_against_the_clock_not_the_newest_event() -> None:
    """A worker reads topics in no event-time order: a backfill may run one topic months
    ahead of another, so only the clock bounds live input."""
    g = guard()
    now = datetime(2026, 11, 23, tzinfo=UTC).timestamp()
    assert "ahead of the clock" in (g.refuse(now + 2 * DAY, "c1", wall=now) or "")
    assert g.refuse(T0, "c1", wall=now) is None
    assert g.refuse(T0 + 200 * DAY, "c2", wall=now) is None
    assert "outside the accepted range" in (g.refuse(253402300799.0, "c3", wall=now) or "")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], churnwatch.ReplayResult]:
    tmp = tmp_path_factory.mktemp("clean")
    log = tmp / "log.jsonl"
    generate(log, tmp / "labels.jsonl", customers=60, days=240, seed=4,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    lines = log.read_bytes().splitlines()
    return lines, churnwatch.replay(lines)


BAD_TIMES = st.one_of(
    st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                     "2100-01-01T00:00:01Z"]),
    st.integers(2026, 2099).map(lambda y: f"{y}-06-01T00:00:00Z"),  # far ahead of 2024
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.floats(0.001, 1.0), when=BAD_TIMES, existing=st.booleans(),
       kind=st.sampled_from(["order", "engagement"]))
def test_one_bad_timestamp_anywhere_changes_no_alert(
        clean: tuple[list[bytes], churnwatch.ReplayResult], position: float, when: str,
        existing: bool, kind: str) -> None:
    lines, expected = clean
    at = max(1, int(position * len(lines)))  # the first line anchors event time
    customer = orjson.loads(lines[at - 1])["customer_id"] if existing else "intruder"
    body = {"kind": kind, "event_id": "bad-1", "customer_id": customer, "occurred_at": when}
    body |= {"order_id": "o", "amount": 50.0} if kind == "order" else {"action": "visit"}
    bad = [*lines[:at], orjson.dumps(body), *lines[at:]]
    result = churnwatch.replay(bad)
    assert result.outputs()["alerts"] == expected.outputs()["alerts"]
    assert result.outputs()["customers"] == expected.outputs()["customers"]
    assert result.counts.late == expected.counts.late
    assert [d.line for d in result.dead_letters] == [at + 1]
    assert result.counts.out_of_time == 1


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
