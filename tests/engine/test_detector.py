import gc
from datetime import timedelta

from churnwatch.engine import Admission, Detector
from churnwatch.settings import Settings
from tests.support.events import DAY, T0, detect, engage, order, regular_orders, signals_of


def test_a_repeated_event_id_is_ignored_and_counted() -> None:
    d = Detector(Settings())
    first = engage("unfollow", 0)
    assert d.ingest(first) is Admission.ACCEPTED
    assert d.ingest(first) is Admission.DUPLICATE  # still pending
    alerts = d.finish()
    assert d.ingest(first) is Admission.DUPLICATE  # already processed
    assert len(alerts) == 1
    assert d.stats.duplicates == 2


def test_duplicate_orders_do_not_count_twice() -> None:
    d = Detector(Settings())
    o = order(0, 50.0)
    for e in (o, o, order(1, 20.0), o):
        d.ingest(e)
        d.advance()
    d.finish()
    assert d.states["c1"].window(T0 + 2 * DAY, d.bucket_seconds) == (2, 7000)


ANY_CUSTOMER_MOVES_TIME = {"event_time": {"quorum": 1}}
"""The watermark's mechanics alone, without the quorum (test_eventtime.py has that)."""


def test_events_wait_for_the_watermark_then_run_in_event_time_order() -> None:
    d = Detector(Settings(detection=ANY_CUSTOMER_MOVES_TIME))
    d.ingest(engage("visit", 1.0))
    d.ingest(engage("unfollow", 1.0 + 5 / 1440))  # 5 minutes later: within 10 min lateness
    assert d.advance() == []
    d.ingest(engage("visit", 1.0 + 20 / 1440))
    assert [a.signal for a in d.advance()] == ["unfollowed"]


def test_an_event_behind_what_its_customer_has_seen_is_late_and_changes_nothing() -> None:
    d = Detector(Settings())
    d.ingest(order(10, 50.0))
    d.advance(T0 + 11 * DAY)
    before = d.states["c1"].to_bytes()
    assert d.ingest(order(5, 999.0)) is Admission.LATE
    assert d.states["c1"].to_bytes() == before
    assert d.stats.late == 1


def test_silence_is_detected_from_other_customers_moving_event_time() -> None:
    events = [*regular_orders("c1", 0, 50, every=10), engage("visit", 81, "c2")]
    assert signals_of(detect(events)) == ["gone_quiet"]


def test_waking_the_clock_touches_only_customers_that_are_due() -> None:
    d = Detector(Settings())
    for i in range(500):
        d.ingest(order(0, 10.0, f"c{i}"))
    d.finish()
    reviews = d.stats.reviews
    d.advance(T0 + 20 * DAY)  # nobody has a deadline in the next 20 days
    assert d.stats.reviews == reviews
    assert all(t > T0 + 20 * DAY for t, _ in d._timers)


def test_lateness_bound_is_configuration() -> None:
    d = Detector(Settings(detection={"allowed_lateness": timedelta(days=2),
                                     **ANY_CUSTOMER_MOVES_TIME}))
    d.ingest(engage("unfollow", 0))
    d.ingest(engage("visit", 1.5, "c2"))
    assert d.advance() == []  # the watermark is still behind the unfollow
    d.ingest(engage("visit", 2.5, "c2"))
    assert [a.signal for a in d.advance()] == ["unfollowed"]


def test_alert_ids_are_deterministic_and_distinct() -> None:
    events = [*regular_orders("c1", 0, 50, every=10), engage("unfollow", 60)]
    first = [a.id for a in detect(events, as_of_day=200)]
    again = [a.id for a in detect(events, as_of_day=200)]
    assert first == again
    assert len(set(first)) == len(first) == 2


def test_restored_states_equal_the_originals_and_the_collector_is_left_on() -> None:
    """Restoring pauses the cyclic collector (see ``_collector_paused``); it must come back
    on, with the adopted states frozen out of later full collections."""
    d = Detector(Settings())
    for day in (1, 30, 60):
        d.ingest(order(day, customer=f"c{day}"))
    d.advance(T0 + 90 * DAY)
    gc.unfreeze()
    new = Detector(Settings())
    new.restore((cid, st.to_bytes()) for cid, st in d.states.items())
    assert gc.isenabled() and gc.get_freeze_count() > 0
    gc.unfreeze()
    assert {c: s.to_bytes() for c, s in new.states.items()} == {
        c: s.to_bytes() for c, s in d.states.items()}
