"""How the alert model writes times: one text for one instant, whichever way it is made."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from churnwatch.models.alert import rfc3339, rfc3339_seconds

YEAR_2100 = 4_102_444_800


@given(st.one_of(st.integers(0, YEAR_2100).map(float),
                 st.floats(0, YEAR_2100, allow_nan=False, allow_infinity=False)))
def test_seconds_are_written_as_the_datetime_would_be(seconds: float) -> None:
    """Whole seconds take the arithmetic path, fractions the datetime one: same text."""
    assert rfc3339_seconds(seconds) == rfc3339(datetime.fromtimestamp(seconds, UTC))


def test_a_whole_second_has_no_fraction_and_a_fraction_keeps_its_microseconds() -> None:
    assert rfc3339_seconds(1_704_067_274.0) == "2024-01-01T00:01:14Z"
    assert rfc3339_seconds(1_704_067_274.5) == "2024-01-01T00:01:14.500000Z"
