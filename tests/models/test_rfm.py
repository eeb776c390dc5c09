import pytest

from churnwatch.models.population import Population
from churnwatch.models.rfm import SEGMENTS, segment_of
from churnwatch.models.state import CustomerState


def test_all_eight_combinations_have_names_from_the_domain() -> None:
    assert len(SEGMENTS) == 8
    assert len(set(SEGMENTS.values())) == 8
    assert SEGMENTS[(True, True, True)] == "important-retain"
    assert SEGMENTS[(False, True, True)] == "important-keep"


@pytest.mark.parametrize(("last", "f", "m", "segment"), [
    (200, 9, 900, "important-keep"),
    (200, 1, 900, "important-develop"),
    (200, 9, 10, "general-important"),
    (100, 9, 900, "important-retain"),
    (100, 9, 10, "general"),
    (100, 1, 10, "low-value"),
    (200, 1, 10, "general-develop"),
    (100, 1, 900, "lapsed-big-spender"),
])
def test_segment_by_population_mean(last: int, f: int, m: int, segment: str) -> None:
    pop = Population()
    pop.add([150, 5, 500])  # means: last 150, F 5, M 500
    state = CustomerState(first_order=1, last_order=last)
    assert segment_of(state, f, m, pop.view()) == segment


def test_customer_who_never_bought_is_a_prospect() -> None:
    assert segment_of(CustomerState(), 0, 0, Population().view()) == "prospect"
