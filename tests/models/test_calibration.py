"""Predictions settled by the customer's own events, and the reliability figures of them."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from churnwatch.models import calibration
from churnwatch.models.calibration import MAX_OPEN, PPM, Calibration, Settled
from churnwatch.models.state import CustomerState

DAY = 86_400
HORIZON = 182 * DAY


def test_a_purchase_within_the_horizon_marks_what_came_before_it_bought() -> None:
    open_: list[list[int]] = []
    for made in (0, 10 * DAY):
        assert calibration.predict(open_, made, HORIZON, 0.7)
    calibration.bought(open_, 5 * DAY)  # after the first only
    calibration.bought(open_, 10 * DAY + HORIZON + 1)  # past the second's end
    assert calibration.ended(open_, HORIZON - 1) == []  # known, but settled at the end
    [first] = calibration.ended(open_, HORIZON)
    assert (first.made_at, first.churned, first.risk, first.horizon_days) == (0, False, 0.7, 182)
    assert calibration.due(open_) == 10 * DAY + HORIZON
    [second] = calibration.ended(open_, 10 * DAY + HORIZON)
    assert second.churned and open_ == [] and calibration.due(open_) == 0


def test_an_order_at_the_moment_of_the_prediction_or_after_its_end_counts_for_nothing(
        ) -> None:
    open_: list[list[int]] = []
    calibration.predict(open_, 0, HORIZON, 0.25)
    calibration.bought(open_, 0)
    calibration.bought(open_, HORIZON + 1)
    [done] = calibration.ended(open_, HORIZON)
    assert done.churned and done.risk_ppm == 250_000
    calibration.predict(open_, 0, HORIZON, 0.25)
    calibration.bought(open_, HORIZON)  # the horizon's last second is within it
    assert not calibration.ended(open_, HORIZON)[0].churned


def test_only_a_handful_are_followed_per_customer() -> None:
    open_: list[list[int]] = []
    followed = [calibration.predict(open_, day * DAY, HORIZON, 0.5) for day in range(6)]
    assert followed == [True] * MAX_OPEN + [False] * (6 - MAX_OPEN)


def test_figures_of_a_small_known_case() -> None:
    settled = [Settled(182.0, 0, 200_000, churned=i == 0) for i in range(5)]
    f = calibration.of(settled)
    assert (f.predictions, f.churned, f.mean_predicted, f.observed) == (5, 1, 0.2, 0.2)
    assert f.ece == 0.0
    assert abs(f.brier - (4 * 0.04 + 0.64) / 5) < 1e-12
    assert f.auc == 0.5  # all tied
    worse = calibration.of([Settled(182.0, 0, 900_000, churned=False)] * 3
                           + [Settled(182.0, 0, 100_000, churned=True)])
    assert worse.auc == 0.0 and abs(worse.ece - (3 * 0.9 + 0.9) / 4) < 1e-12


settled_lists = st.lists(st.builds(Settled, st.sampled_from([91.0, 182.0]),
                                   st.integers(0, 10**9), st.integers(0, PPM), st.booleans()),
                         max_size=60)


@given(settled_lists, st.lists(st.integers(0, 60), max_size=4))
def test_counts_add_up_across_any_split(settled: list[Settled], cuts: list[int]) -> None:
    """What workers' counters sum to is what one replay counts: exactly."""
    whole = Calibration()
    whole.add(settled)
    parts = Calibration()
    bounds = [0, *sorted(cuts), len(settled)]
    for lo, hi in itertools.pairwise(bounds):
        part = Calibration()
        part.add(settled[lo:hi])
        for horizon, row in part.bins.items():
            into = parts.bins.setdefault(horizon, [calibration.Bin() for _ in row])
            for mine, theirs in zip(into, row, strict=True):
                mine.n += theirs.n
                mine.churned += theirs.churned
                mine.risk_ppm += theirs.risk_ppm
                mine.squared_ppm2 += theirs.squared_ppm2
    assert parts.bins == whole.bins
    for horizon in whole.bins:
        assert calibration.figures(parts.bins[horizon]) == calibration.figures(
            whole.bins[horizon])


@given(settled_lists)
def test_auc_is_the_share_of_churned_stayed_pairs_ranked_right(settled: list[Settled]) -> None:
    churned = [s.risk_ppm for s in settled if s.churned]
    stayed = [s.risk_ppm for s in settled if not s.churned]
    got = calibration.ranking(settled)
    if not churned or not stayed:
        assert got is None
        return
    pairs = [(c > s) + 0.5 * (c == s) for c in churned for s in stayed]
    assert got is not None and abs(got - sum(pairs) / len(pairs)) < 1e-12


def test_open_predictions_survive_the_changelog() -> None:
    state = CustomerState(orders=1)
    calibration.predict(state.predictions, 5, HORIZON, 0.4321)
    again = CustomerState.from_bytes(state.to_bytes())
    assert again.predictions == [[5, 5 + HORIZON, 432_100, 0]]


def test_predictions_stay_in_order_of_their_ends_when_the_horizon_shrinks() -> None:
    """A new model with a shorter horizon: its risks end before older ones."""
    open_: list[list[int]] = []
    calibration.predict(open_, 0, HORIZON, 0.5)
    calibration.predict(open_, DAY, HORIZON // 2, 0.5)
    assert calibration.due(open_) == DAY + HORIZON // 2
    [short] = calibration.ended(open_, DAY + HORIZON // 2)
    assert short.horizon_days == 91 and calibration.due(open_) == HORIZON
