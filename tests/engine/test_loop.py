"""Closing the loop in the engine: holdout, follow-up deadlines, attribution windows."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import churnwatch
from churnwatch.models.holdout import bucket
from churnwatch.replayer import ReplayResult
from churnwatch.settings import Settings
from churnwatch.signals.base import CODES
from churnwatch.testing import EventLog

QUIET_DAY = 80  # regular orders every 10 days to day 50: gone_quiet at 50 + 3 x 10


def quiet(log: EventLog, customer: str = "c1") -> EventLog:
    for day in range(0, 51, 10):
        log.order(customer, day)
    return log


def run(log: EventLog, as_of_day: float, **loop: Any) -> ReplayResult:
    return churnwatch.replay(log, settings=Settings.build(loop=loop),
                             as_of=log.time(as_of_day))


def the_alert(log: EventLog, **loop: Any) -> Any:
    alerts = run(log, QUIET_DAY + 1, **loop).alerts
    assert [a.data.signal for a in alerts] == ["gone_quiet"]
    return alerts[0]


def test_an_unanswered_alert_goes_overdue_once_when_its_window_passes() -> None:
    log = quiet(EventLog())
    alert = the_alert(log)
    hours = int(alert.data.respond_within.removeprefix("PT").removesuffix("H"))
    result = run(log, QUIET_DAY + 60, follow_up=True)
    overdue = [a for a in result.alerts if a.data.signal == "follow_up_overdue"]
    assert len(overdue) == 1
    assert overdue[0].time.timestamp() == alert.time.timestamp() + hours * 3600
    assert overdue[0].data.evidence["overdue_signal"] == "gone_quiet"
    assert overdue[0].id == run(log, QUIET_DAY + 60, follow_up=True).alerts[-1].id


def test_an_action_in_time_prevents_it_and_is_timed() -> None:
    log = quiet(EventLog())
    alert = the_alert(log)
    log.action("c1", QUIET_DAY + 0.01, alert.id, channel="phone")
    result = run(log, QUIET_DAY + 60, follow_up=True)
    assert [a.data.signal for a in result.alerts] == ["gone_quiet"]
    assert [(r.seconds, r.late) for r in result.responses] == [(864, False)]
    assert result.counts.actions == {"answered": 1}


def test_an_action_after_the_window_comes_too_late() -> None:
    log = quiet(EventLog())
    alert = the_alert(log)
    log.action("c1", QUIET_DAY + 3, alert.id)
    result = run(log, QUIET_DAY + 60, follow_up=True)
    assert [a.data.signal for a in result.alerts] == ["gone_quiet", "follow_up_overdue"]
    assert [r.late for r in result.responses] == [True]


def test_no_follow_up_is_tracked_unless_switched_on() -> None:
    result = run(quiet(EventLog()), QUIET_DAY + 60)
    assert [a.data.signal for a in result.alerts] == ["gone_quiet"]


def test_actions_change_no_alert_and_unknown_ones_are_counted() -> None:
    log = quiet(EventLog())
    alert = the_alert(log)
    log.action("c1", QUIET_DAY + 0.01, alert.id).action("c1", QUIET_DAY + 0.02, alert.id)
    log.action("c1", QUIET_DAY + 1, "no-such-alert", "offer_sent", offer_cost=5.0)
    log.action("c9", 20, "never-alerted")
    with_actions = run(log, 400)
    without = run(quiet(EventLog()), 400)
    assert [a.id for a in with_actions.alerts] == [a.id for a in without.alerts]
    assert with_actions.counts.actions == {"answered": 1, "repeat": 1, "unknown_alert": 2}
    assert with_actions.dead_letters == []


def test_a_purchase_within_the_window_wins_the_alert_back_with_its_value() -> None:
    log = quiet(EventLog())
    alert = the_alert(log)
    log.action("c1", QUIET_DAY + 0.01, alert.id, "offer_sent", offer_cost=4.5)
    log.order("c1", QUIET_DAY + 20, amount=80).order("c1", QUIET_DAY + 31, amount=999)
    result = run(log, QUIET_DAY + 60)
    gone = [o for o in result.outcomes if o.signal == CODES["gone_quiet"]]
    assert len(gone) == 1
    assert (gone[0].won, gone[0].revenue, gone[0].cost, gone[0].action) == (
        True, 80.0, 4.5, "offer_sent")
    assert gone[0].held_out is False


def test_a_window_closes_only_when_event_time_passes_its_end() -> None:
    log = quiet(EventLog())
    assert run(log, QUIET_DAY + 29).outcomes == []
    [closed] = run(log, QUIET_DAY + 30).outcomes
    assert closed.won is False and closed.action is None


def holdout_salt_for(customer: str, held: bool) -> str:
    """A salt that puts ``customer`` in (or out of) a 50 % holdout group."""
    return next(f"s{n}" for n in range(1000)
                if (bucket(f"s{n}", customer) < 5000) == held)


def test_a_held_out_alert_is_kept_apart_and_gets_no_follow_up() -> None:
    log = quiet(EventLog())
    salt = holdout_salt_for("c1", held=True)
    result = run(log, QUIET_DAY + 60, follow_up=True, holdout_share=0.5, holdout_salt=salt)
    assert result.alerts == []
    assert [a.data.signal for a in result.held_out] == ["gone_quiet"]
    assert result.counts.held_out == {"gone_quiet": 1}
    [closed] = result.outcomes
    assert closed.held_out is True
    assert result.outputs()["holdout"].count(b"\n") == 1


def test_a_follow_up_reaches_marketing_even_for_a_customer_held_out_of_other_signals(
        ) -> None:
    log = quiet(EventLog())
    salt = holdout_salt_for("c1", held=True)
    result = run(log, QUIET_DAY + 60, follow_up=True, holdout_share=0.5, holdout_salt=salt,
                 holdout_by_signal={"gone_quiet": 0.0})
    assert [a.data.signal for a in result.alerts] == ["gone_quiet", "follow_up_overdue"]
    assert result.held_out == []


CROWD = EventLog()
for _n in range(40):
    quiet(CROWD, f"c{_n}")
PLAIN = run(CROWD, QUIET_DAY + 60, follow_up=True)


@settings(max_examples=20, deadline=None)
@given(share=st.floats(0.05, 0.95), salt=st.text(min_size=1, max_size=20))
def test_holdout_moves_alerts_and_changes_none(share: float, salt: str) -> None:
    """Whatever the share and salt: the same alerts, split between the two outputs; only
    treated ones are followed up."""
    split = run(CROWD, QUIET_DAY + 60, follow_up=True, holdout_share=share,
                holdout_salt=salt)
    warnings = [a for a in PLAIN.alerts if a.data.signal == "gone_quiet"]
    assert len(split.held_out) == sum(bucket(salt, a.subject) < round(share * 10_000)
                                      for a in warnings)
    assert sorted(a.id for a in [*split.alerts, *split.held_out]
                  if a.data.signal == "gone_quiet") == sorted(a.id for a in warnings)
    held = {a.subject for a in split.held_out}
    overdue = {a.subject for a in split.alerts if a.data.signal == "follow_up_overdue"}
    assert overdue == {a.subject for a in warnings} - held
