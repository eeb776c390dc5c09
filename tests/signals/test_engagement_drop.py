from tests.support.events import detect, engage, signals_of


def visits(first: float, last: float, every: float) -> list:
    out, day = [], first
    while day <= last:
        out.append(engage("visit", day))
        day += every
    return out


def test_a_steady_visitor_falling_silent_is_flagged_by_event_time() -> None:
    alerts = detect(visits(0, 120, every=3), as_of_day=250)
    assert signals_of(alerts) == ["engagement_drop"]
    alert = alerts[0]
    assert alert.data.trigger.kind == "time"
    ev = alert.data.evidence
    assert ev["recent_per_30d"] / ev["baseline_per_30d"] < 0.25 + 1e-3  # evidence is rounded
    assert 20 < ev["days_since_last_activity"] < 60


def test_near_miss_visits_continue_at_a_lower_but_not_collapsed_rate() -> None:
    events = visits(0, 120, every=3) + visits(123, 300, every=6)
    assert signals_of(detect(events, as_of_day=300)) == []


def test_low_baseline_is_too_thin_to_judge() -> None:
    assert signals_of(detect(visits(0, 120, every=10), as_of_day=300)) == []


def test_too_little_history() -> None:
    assert signals_of(detect(visits(0, 20, every=1), as_of_day=21 + 30)) == []


def test_a_sparse_visitor_needs_a_longer_silence_than_a_frequent_one() -> None:
    frequent = detect(visits(0, 120, every=1), as_of_day=400)
    sparse = detect(visits(0, 120, every=4), as_of_day=400)
    quiet_frequent = frequent[0].data.evidence["days_since_last_activity"]
    quiet_sparse = sparse[0].data.evidence["days_since_last_activity"]
    assert quiet_sparse > quiet_frequent
    # Poisson guard: the sparse visitor's baseline predicted at least 8 missing visits
    ev = sparse[0].data.evidence
    baseline_then = ev["baseline_per_30d"] / 30 * 2 ** (quiet_sparse / 90)  # undo the decay
    assert quiet_sparse * baseline_then >= 8 - 0.05
