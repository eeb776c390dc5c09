import math

from hypothesis import given, settings
from hypothesis import strategies as st

from churnwatch.engine import Detector
from churnwatch.models.state import N_BUCKETS, CustomerState
from churnwatch.settings import Settings
from tests.support.events import DAY, T0, complaint, engage, offer, order


def busy_customer() -> CustomerState:
    """A year of weekly orders, visits, offers and complaints: a large realistic state."""
    d = Detector(Settings())
    for week in range(52):
        for e in (order(week * 7, 80.0 + week, promotion_id=f"p{week}" if week % 2 else None),
                  engage("visit", week * 7 + 1), engage("visit", week * 7 + 3),
                  offer(week * 7 + 2, f"p{week + 1}")):
            d.ingest(e)
        if week % 10 == 0:
            d.ingest(complaint(week * 7 + 4, f"t{week}", "minor"))
        d.advance()
    d.finish()
    return d.states["c1"]


def test_serialization_round_trip_is_exact() -> None:
    st = busy_customer()
    assert CustomerState.from_bytes(st.to_bytes()) == st


def test_a_busy_customer_fits_in_400_bytes() -> None:
    assert len(busy_customer().to_bytes()) <= 400


def test_pending_events_survive_serialization() -> None:
    d = Detector(Settings())
    d.ingest(order(0, 10.0))
    st = d.states["c1"]
    assert len(st.pending) == 1
    assert CustomerState.from_bytes(st.to_bytes()).pending == st.pending


def test_window_forgets_orders_older_than_the_window() -> None:
    d = Detector(Settings(detection={"window_days": 120}))
    for e in (order(0, 50.0), order(100, 70.0)):
        d.ingest(e)
    d.finish()
    st = d.states["c1"]
    assert st.window(T0 + 101 * DAY, d.bucket_seconds) == (2, 12000)
    assert st.window(T0 + 140 * DAY, d.bucket_seconds) == (1, 7000)
    assert st.window(T0 + 400 * DAY, d.bucket_seconds) == (0, 0)


def test_cancellation_and_refund_leave_frequency_and_monetary() -> None:
    d = Detector(Settings())
    for e in (order(0, 50.0, order_id="A"), order(1, 70.0, order_id="B"),
              order(2, 50.0, order_id="A", status="cancelled"),
              order(3, 20.0, order_id="B", status="refunded")):
        d.ingest(e)
    d.finish()
    st = d.states["c1"]
    assert st.window(T0 + 4 * DAY, d.bucket_seconds) == (1, 5000)  # B partly refunded
    assert st.orders == 1
    assert st.spend == 5000


@settings(max_examples=300, deadline=None)
@given(counts=st.lists(st.integers(0, 3), min_size=N_BUCKETS, max_size=N_BUCKETS),
       amounts=st.lists(st.integers(0, 9_000), min_size=N_BUCKETS, max_size=N_BUCKETS),
       end=st.integers(0, 60), now_bucket=st.integers(-5, 80), within=st.floats(0, 0.999))
def test_the_window_is_the_sum_of_the_buckets_in_it_and_its_first_to_leave(
        counts: list[int], amounts: list[int], end: int, now_bucket: int, within: float
        ) -> None:
    """The window read from ring slices says what a walk over its buckets says: F and M
    summed over the buckets from ``now``'s window start to the newest, and when the oldest
    non-empty one leaves (0: none), wherever the window wraps round the ring."""
    state = CustomerState(bucket_end=end, counts=counts, amounts=amounts)
    width = 30 * DAY
    now = (now_bucket + within) * width
    first = max(math.floor(now / width) - N_BUCKETS + 1, end - N_BUCKETS + 1)
    walked = [(idx, counts[idx % N_BUCKETS], amounts[idx % N_BUCKETS])
              for idx in range(first, end + 1)]
    oldest = next((idx for idx, c, a in walked if c or a), None)
    assert state.window_and_rolloff(now, width) == (
        sum(c for _, c, _ in walked), sum(a for _, _, a in walked),
        0 if oldest is None else math.ceil((oldest + N_BUCKETS) * width))
