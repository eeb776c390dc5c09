"""Invariants over arbitrary valid event sequences (hypothesis)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnwatch.engine import Detector
from churnwatch.models.alert import Alert
from churnwatch.models.events import AnyEvent, parse_event
from churnwatch.settings import Settings

T0 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
LATENESS = 600.0

customers = st.sampled_from(["a", "b", "c"])
seconds = st.integers(0, 400 * 86_400)


@st.composite
def bodies(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(["order", "engagement", "complaint"]))
    body: dict = {"kind": kind, "customer_id": draw(customers), "t": draw(seconds)}
    if kind == "order":
        body |= {"order_id": draw(st.sampled_from(["o1", "o2", "o3", "o4"])),
                 "amount": draw(st.floats(0, 2000, allow_nan=False)),
                 "status": draw(st.sampled_from(["placed"] * 4 + ["cancelled", "refunded"])),
                 "promotion_id": draw(st.none() | st.sampled_from(["p1", "p2"]))}
    elif kind == "engagement":
        action = draw(st.sampled_from(["visit", "visit", "community_post", "follow",
                                       "unfollow", "unsubscribe", "promotion_offered",
                                       "survey"]))
        body["action"] = action
        if action == "promotion_offered":
            body["promotion_id"] = draw(st.sampled_from(["p1", "p2", "p3"]))
            body["expires_in"] = draw(st.integers(1, 30 * 86_400))
        elif action == "survey":
            body["score"] = draw(st.integers(0, 10))
    else:
        body |= {"ticket_id": draw(st.sampled_from(["t1", "t2"])),
                 "severity": draw(st.sampled_from(["inquiry", "minor", "major",
                                                   "refund_request", "exchange_request"]))}
    return body


def materialize(items: list[dict]) -> list[AnyEvent]:
    events = []
    for i, item in enumerate(sorted(items, key=lambda b: b["t"])):
        body = dict(item)
        t = T0 + body.pop("t")
        if "expires_in" in body:
            body["expires_at"] = _iso(t + body.pop("expires_in"))
        body |= {"event_id": f"e{i}", "occurred_at": _iso(t)}
        events.append(parse_event(orjson.dumps(body)))
    return events


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def run(events: list[AnyEvent], live_limit: int | None = None) -> list[bytes]:
    d = Detector(Settings(), live_limit=live_limit)
    out: list[Alert] = []
    for e in events:
        d.ingest(e)
        out += d.advance()
        for cid in d.touched:  # what a worker's flush does: write, then compact
            d.states.encoded(cid)
        d.touched.clear()
        d.compact()
    out += d.finish(T0 + 500 * 86_400)
    return [a.json() for a in out]


logs = st.lists(bodies(), min_size=1, max_size=60).map(materialize)
fast = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(logs)
def test_any_valid_sequence_runs_and_replays_identically(events: list[AnyEvent]) -> None:
    assert run(events) == run(events)


@fast
@given(logs, st.integers(1, 2))
def test_keeping_few_states_decoded_changes_no_alert(events: list[AnyEvent],
                                                     live_limit: int) -> None:
    """A worker keeps most customers encoded between batches (models/state_cache.py); here
    after every event, with at most one or two of the three customers decoded."""
    assert run(events, live_limit) == run(events)


@fast
@given(logs, st.randoms(use_true_random=False))
def test_duplicates_change_no_alert(events: list[AnyEvent], rnd: random.Random) -> None:
    noisy = list(events)
    for e in rnd.sample(events, k=max(1, len(events) // 3)):
        noisy.insert(rnd.randrange(noisy.index(e) + 1, len(noisy) + 1), e)
    assert run(noisy) == run(events)


@fast
@given(logs, st.randoms(use_true_random=False))
def test_reordering_within_the_lateness_bound_changes_no_alert(
        events: list[AnyEvent], rnd: random.Random) -> None:
    # Arrival order = event time plus a delay below the lateness bound.
    shuffled = sorted(events, key=lambda e: e.ts + rnd.uniform(0, LATENESS * 0.999))
    assert run(shuffled) == run(events)


@fast
@given(logs, st.integers(0, 60))
def test_state_survives_a_serialization_round_trip_mid_stream(
        events: list[AnyEvent], cut: int) -> None:
    """What a worker restart does: states from their bytes, then carry on. Both runs refresh
    the population view at the cut, since a restarted worker rebuilds it from the states."""
    cut = min(cut, len(events))

    def first_part() -> tuple[Detector, list[bytes]]:
        d = Detector(Settings())
        out = []
        for e in events[:cut]:
            d.ingest(e)
            out += [a.json() for a in d.advance()]
        return d, out

    def rest(d: Detector) -> list[bytes]:
        d.refresh_view()
        out = []
        for e in events[cut:]:
            d.ingest(e)
            out += [a.json() for a in d.advance()]
        return out + [a.json() for a in d.finish(T0 + 500 * 86_400)]

    straight, head = first_part()
    expected = head + rest(straight)

    old, head = first_part()
    restored = Detector(Settings())
    restored.restore((cid, state.to_bytes()) for cid, state in old.states.items())
    assert restored.census.pairs() == old.census.pairs()  # the states carry event time
    assert head + rest(restored) == expected
