"""Rates, intervals and tests of the outcome report, against published values."""

import math

import pytest

from churnwatch.models.uplift import Group, uplift, wilson


def group(won: int, n: int, revenue: float = 0.0) -> Group:
    g = Group()
    for i in range(n):
        g.add(i < won, revenue if i < won else 0.0)
    return g


def test_wilson_interval_matches_the_textbook() -> None:
    # Newcombe (1998), table I: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert wilson(15, 148) == pytest.approx((0.0624, 0.1605), abs=5e-5)
    assert wilson(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert wilson(10, 10)[1] == pytest.approx(1.0)
    assert wilson(0, 0) == (0.0, 1.0)


def test_newcombe_difference_interval_matches_the_textbook() -> None:
    # Newcombe (1998), method 10, example (a): 56/70 vs 48/80 -> 0.0524 to 0.3339
    u = uplift(group(56, 70), group(48, 80))
    assert u.difference == pytest.approx(0.2)
    assert u.interval == pytest.approx((0.0524, 0.3339), abs=5e-5)


def test_two_proportion_test_agrees_with_the_chi_square_of_the_table() -> None:
    # the pooled z-test is Pearson's chi-square on the 2x2 table (z^2 = chi^2, 1 df)
    a, b, c, d = 56, 14, 48, 32
    chi2 = (a + b + c + d) * (a * d - b * c) ** 2 / (
        (a + b) * (c + d) * (a + c) * (b + d))
    p_chi2 = math.erfc(math.sqrt(chi2 / 2))  # survival of chi^2 with 1 df
    assert uplift(group(56, 70), group(48, 80)).p_value == pytest.approx(p_chi2)
    assert p_chi2 == pytest.approx(0.00805, abs=5e-5)
    assert uplift(group(10, 100), group(10, 100)).p_value == pytest.approx(1.0)


def test_revenue_per_alert_is_a_difference_of_means() -> None:
    u = uplift(group(40, 100, revenue=50.0), group(20, 100, revenue=50.0))
    assert u.revenue_per_alert == pytest.approx(10.0)
    assert u.revenue_interval[0] < 10.0 < u.revenue_interval[1]


def test_alerts_of_one_customer_count_as_one_draw_when_they_go_together() -> None:
    """50 customers with 4 alerts each, all won or all lost: as uncertain as 50 alerts."""
    clustered = Group()
    for customer in range(50):
        for _ in range(4):
            clustered.add(customer < 20, 0.0, cluster=customer)
    assert clustered.rate == pytest.approx(0.4)
    assert clustered.design_effect == pytest.approx(4.0)
    assert clustered.interval == pytest.approx(wilson(20, 50))
    independent = group(80, 200)
    assert independent.design_effect == 1.0
    assert independent.interval == pytest.approx(wilson(80, 200))
