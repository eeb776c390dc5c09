from tests.support.events import detect, order, regular_orders, signals_of


def test_buying_again_after_an_alert_reports_recovery() -> None:
    events = [*regular_orders("c1", 0, 50, every=10), order(100)]
    alerts = detect(events)
    assert signals_of(alerts) == ["gone_quiet", "recovered"]
    recovered = alerts[1]
    assert recovered.type == "io.churnwatch.recovered.v2"
    assert recovered.data.evidence["recovered_from"] == "gone_quiet"
    assert recovered.data.evidence["days_since_first_alert"] == 20.0


def test_an_order_without_open_alerts_is_not_a_recovery() -> None:
    assert signals_of(detect(regular_orders("c1", 0, 50, every=10))) == []


def test_recovery_is_reported_once() -> None:
    events = [*regular_orders("c1", 0, 50, every=10), order(100), order(105)]
    assert signals_of(detect(events)).count("recovered") == 1
