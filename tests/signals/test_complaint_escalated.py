from tests.support.events import complaint, detect, signals_of


def test_same_ticket_escalating_to_refund_fires() -> None:
    alerts = detect([complaint(0, "t1", "minor"), complaint(5, "t1", "refund_request")])
    assert signals_of(alerts) == ["complaint_escalated"]
    ev = alerts[0].data.evidence
    assert ev["same_ticket"] is True
    assert ev["prior_severity"] == "minor"
    assert ev["demand"] == "refund_request"


def test_new_exchange_demand_after_recent_complaint_on_other_ticket_fires() -> None:
    alerts = detect([complaint(0, "t1", "inquiry"), complaint(30, "t2", "exchange_request")])
    assert signals_of(alerts) == ["complaint_escalated"]
    assert alerts[0].data.evidence["same_ticket"] is False


def test_demand_out_of_the_blue_is_not_an_escalation() -> None:
    assert signals_of(detect([complaint(0, "t1", "refund_request")])) == []


def test_old_small_complaint_beyond_lookback_does_not_count() -> None:
    events = [complaint(0, "t1", "minor"), complaint(100, "t2", "refund_request")]
    assert signals_of(detect(events)) == []


def test_repeated_demand_on_one_ticket_fires_once() -> None:
    events = [complaint(0, "t1", "major"), complaint(2, "t1", "refund_request"),
              complaint(40, "t1", "refund_request", status="updated")]
    assert signals_of(detect(events)) == ["complaint_escalated"]
