"""The holdout group: stable, salted, nested shares."""

from hypothesis import given
from hypothesis import strategies as st

from churnwatch.models.holdout import BUCKETS, Holdout, bucket

CUSTOMERS = [f"c{n}" for n in range(20_000)]


def test_buckets_are_fixed_by_salt_and_customer() -> None:
    assert bucket("s", "c1") == bucket("s", "c1")
    assert [bucket("churnwatch", c) for c in ("c1", "c2", "alice")] == [
        bucket("churnwatch", c) for c in ("c1", "c2", "alice")]
    moved = sum(bucket("a", c) != bucket("b", c) for c in CUSTOMERS[:1000])
    assert moved > 990  # a new salt draws a new group


def test_a_share_holds_out_about_that_share_of_customers() -> None:
    held = sum(Holdout(0.1, {}, "x").holds(c, "gone_quiet") for c in CUSTOMERS)
    assert 0.09 * len(CUSTOMERS) < held < 0.11 * len(CUSTOMERS)


def test_a_signal_share_overrides_and_groups_nest() -> None:
    h = Holdout(0.1, {"basket_drop": 0.3, "unfollowed": 0.0}, "x")
    for c in CUSTOMERS[:2000]:
        if h.holds(c, "gone_quiet"):
            assert h.holds(c, "basket_drop")  # 10 % inside 30 %
        assert not h.holds(c, "unfollowed")
    assert not Holdout(0, {}, "x").active


@given(st.text(min_size=1, max_size=200), st.text(min_size=1, max_size=128))
def test_every_salt_and_id_has_a_bucket(salt: str, customer: str) -> None:
    assert 0 <= bucket(salt, customer) < BUCKETS
