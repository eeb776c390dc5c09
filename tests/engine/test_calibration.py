"""The engine follows each published risk until its horizon closes (models/calibration.py)."""

from __future__ import annotations

import churnwatch
from churnwatch.models.calibration import Settled
from churnwatch.replayer import ReplayResult
from churnwatch.settings import Settings
from churnwatch.testing import EventLog

QUIET_DAY = 80  # regular orders every 10 days to day 50: gone_quiet at 50 + 3 x 10
HORIZON_DAYS = 182  # the default model's: 26 weeks


def quiet() -> EventLog:
    log = EventLog()
    for day in range(0, 51, 10):
        log.order("c1", day)
    return log


def run(log: EventLog, as_of_day: float) -> ReplayResult:
    return churnwatch.replay(log, settings=Settings.build(), as_of=log.time(as_of_day))


def of_the_alert(result: ReplayResult, log: EventLog) -> list[Settled]:
    return [s for s in result.settled if s.made_at == int(log.time(QUIET_DAY).timestamp())]


def test_the_risk_of_an_alert_is_settled_bought_when_its_horizon_closes() -> None:
    log = quiet()
    [alert] = run(log, QUIET_DAY + 1).alerts
    assert alert.data.signal == "gone_quiet" and alert.data.risk_horizon_days == HORIZON_DAYS
    log.order("c1", QUIET_DAY + 100)
    assert of_the_alert(run(log, QUIET_DAY + HORIZON_DAYS - 0.001), log) == [], \
        "settled before its horizon closed: recent figures would count only purchases"
    [settled] = of_the_alert(run(log, QUIET_DAY + HORIZON_DAYS), log)
    assert (settled.churned, settled.risk, settled.horizon_days) == (
        False, alert.data.risk, HORIZON_DAYS)


def test_it_is_settled_churned_once_event_time_passes_the_horizon_without_one() -> None:
    log = quiet()
    before = run(log, QUIET_DAY + HORIZON_DAYS - 0.001)
    assert of_the_alert(before, log) == []
    log.order("c1", QUIET_DAY + HORIZON_DAYS + 1 / 86_400)  # a second too late
    [settled] = of_the_alert(run(log, QUIET_DAY + HORIZON_DAYS + 2), log)
    assert settled.churned
    assert settled.risk == before.alerts[0].data.risk


def test_following_risks_changes_no_alert() -> None:
    """Settling is not an item: the same alerts with or without a horizon closing."""
    log = quiet()
    short = run(log, QUIET_DAY + 1).alerts
    long = run(log, QUIET_DAY + 2 * HORIZON_DAYS).alerts
    assert long[: len(short)] == short
