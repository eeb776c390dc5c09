from tests.support.events import DAY, T0, detect, order, regular_orders, signals_of


def test_silence_beyond_three_usual_gaps_fires_from_event_time_alone() -> None:
    events = regular_orders("c1", 0, 50, every=10)  # last order day 50, gap 10
    alerts = detect(events, as_of_day=120)
    assert signals_of(alerts) == ["gone_quiet"]
    assert alerts[0].time.timestamp() == T0 + 80 * DAY  # 50 + 3 x 10
    assert alerts[0].data.reasons[0].code == "silent_beyond_usual_gap"


def test_near_miss_before_the_deadline() -> None:
    assert signals_of(detect(regular_orders("c1", 0, 50, every=10), as_of_day=79)) == []


def test_a_purchase_in_time_prevents_it() -> None:
    events = [*regular_orders("c1", 0, 50, every=10), order(75)]
    assert "gone_quiet" not in signals_of(detect(events, as_of_day=100))


def test_one_time_buyer_uses_the_absolute_limit() -> None:
    assert signals_of(detect([order(0)], as_of_day=89)) == []
    alerts = detect([order(0)], as_of_day=91)
    assert signals_of(alerts) == ["gone_quiet"]
    assert alerts[0].data.reasons[0].code == "silent_beyond_absolute_limit"


def test_one_alert_per_silence() -> None:
    assert signals_of(detect(regular_orders("c1", 0, 50, every=10), as_of_day=400)) == [
        "gone_quiet"]
