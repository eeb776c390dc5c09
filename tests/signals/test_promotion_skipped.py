from tests.support.events import DAY, T0, detect, engage, offer, order, signals_of


def test_two_unredeemed_offers_fire_when_the_second_expires_without_more_events() -> None:
    alerts = detect([offer(0, "p1"), offer(20, "p2")], as_of_day=40)
    assert signals_of(alerts) == ["promotion_skipped"]
    alert = alerts[0]
    assert alert.time.timestamp() == T0 + 30 * DAY  # the second offer's end
    assert alert.data.trigger.kind == "time"
    assert alert.data.evidence["consecutive_skips"] == 2


def test_event_time_from_other_customers_is_enough_to_fire() -> None:
    alerts = detect([offer(0, "p1"), offer(20, "p2"), engage("visit", 31, "other")])
    assert signals_of(alerts) == ["promotion_skipped"]


def test_a_redemption_between_two_skips_breaks_the_run() -> None:
    events = [offer(0, "p1"), offer(20, "p2"), order(25, promotion_id="p2"), offer(40, "p3")]
    assert signals_of(detect(events, as_of_day=80)) == []


def test_one_skip_is_not_enough() -> None:
    assert signals_of(detect([offer(0, "p1")], as_of_day=60)) == []


def test_not_yet_expired_second_offer_does_not_fire() -> None:
    assert signals_of(detect([offer(0, "p1"), offer(20, "p2")], as_of_day=29)) == []
