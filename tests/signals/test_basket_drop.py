from tests.support.events import detect, order, signals_of


def history() -> list:
    return [order(d, 100.0) for d in (0, 10, 20, 30)]


def test_order_far_below_usual_value_fires_with_evidence() -> None:
    alerts = detect([*history(), order(40, 30.0)])
    assert signals_of(alerts) == ["basket_drop"]
    ev = alerts[0].data.evidence
    assert ev["order_value"] == 30.0
    assert ev["usual_order_value"] == 100.0
    assert ev["ratio"] == 0.3
    assert alerts[0].data.rfm.frequency == 5


def test_near_miss_just_above_the_threshold() -> None:
    assert signals_of(detect([*history(), order(40, 41.0)])) == []


def test_too_little_history_to_know_the_usual_value() -> None:
    assert signals_of(detect([order(0, 100.0), order(10, 100.0), order(20, 10.0)])) == []


def test_cancelled_small_order_is_not_a_basket() -> None:
    events = [*history(), order(40, 10.0, status="cancelled")]
    assert signals_of(detect(events)) == []
