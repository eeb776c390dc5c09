from churnwatch.engine import Detector
from churnwatch.settings import Settings
from tests.support.events import complaint, detect, engage, order


def history() -> list:
    return [order(d, 100.0) for d in (0, 10, 20, 30)]


def drops(alerts: list) -> list[float]:
    return [a.time.timestamp() for a in alerts if a.data.signal == "basket_drop"]


def test_cooldown_holds_back_a_repeat_of_the_same_signal() -> None:
    events = [*history(), order(40, 10.0), order(45, 100.0), order(50, 100.0),
              order(55, 10.0)]
    assert len(drops(detect(events))) == 1


def test_after_the_cooldown_the_signal_may_fire_again() -> None:
    events = [*history(), order(40, 10.0), *[order(d, 100.0) for d in (50, 60, 70)],
              order(75, 10.0)]
    assert len(drops(detect(events))) == 2


def test_cap_limits_alerts_per_customer_and_counts_the_suppressed() -> None:
    detector = Detector(Settings())
    events = [*history(), engage("unfollow", 31), engage("survey", 32, score=2),
              complaint(33, "t", "minor"), complaint(34, "t", "refund_request"),
              order(35, 10.0)]
    for e in events:
        detector.ingest(e)
    alerts = detector.finish()
    assert [a.signal for a in alerts] == ["unfollowed", "nps_detractor",
                                               "complaint_escalated", "recovered"]
    assert detector.stats.suppressed["cap"] == 1  # the basket drop of day 35


def test_recovered_is_never_capped() -> None:
    events = [*history(), engage("unfollow", 31), engage("survey", 32, score=2),
              complaint(33, "t", "minor"), complaint(34, "t", "refund_request"),
              order(35, 100.0)]
    assert [a.data.signal for a in detect(events)][-1] == "recovered"


def test_cooldown_is_configuration() -> None:
    settings = Settings(detection={"governance": {"cooldown_days": 0}})
    events = [*history(), order(40, 10.0), order(41, 100.0), order(42, 100.0),
              order(43, 10.0)]
    assert len(drops(detect(events, settings=settings))) == 2
