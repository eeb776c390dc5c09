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
    assert segment_of(state, 0, f, m, pop.view()) == segment


def test_customer_who_never_bought_is_a_prospect() -> None:
    assert segment_of(CustomerState(), 0, 0, 0, Population().view()) == "prospect"


@pytest.mark.parametrize("later", [0, 86_400 * 400])
def test_frozen_statistics_compare_recency_by_age_not_by_date(later: int) -> None:
    """Statistics frozen at 1,000,000 with everyone's last order 100,000 before: a
    customer who bought 50,000 ago is recent, one who bought 150,000 ago is not, however
    long after the freeze they are classified."""
    pop = Population()
    pop.add([900_000, 5, 500])
    view = pop.view(as_of=1_000_000)
    now = 1_000_000 + later
    recent = CustomerState(first_order=1, last_order=now - 50_000)
    lapsed = CustomerState(first_order=1, last_order=now - 150_000)
    assert segment_of(recent, now, 9, 900, view) == "important-keep"
    assert segment_of(lapsed, now, 9, 900, view) == "important-retain"
