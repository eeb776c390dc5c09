"""Scores one customer's state with the fitted models: P(alive), risk, value at risk.

Called only when an alert is built or a summary written, never per event, so the cost of
scoring (about 20 us) does not touch throughput.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from churnwatch.models.clv import History, expected_purchases_if_alive, expected_spend, p_alive
from churnwatch.models.params import ModelDoc
from churnwatch.models.risk import Customer, features, raw_values
from churnwatch.models.state import CustomerState
from churnwatch.models.vocabulary import SIGNAL_NAMES


@dataclass(frozen=True, slots=True)
class Assessment:
    """The scores of one customer; all None (and no drivers) for one who never bought."""

    p_alive: float | None
    risk: float | None  # P(no purchase within the horizon)
    value_at_risk: float | None  # risk x what the customer spends in the horizon if they stay
    drivers: Sequence[tuple[str, str, float]]  # (feature, readable value, log-odds part)


UNSCORED = Assessment(None, None, None, ())
"""Every model here is of purchase behaviour: scoring a prospect's first visit as a first
purchase invented a history. Whether a prospect will ever buy is not modelled here."""


def customer(st: CustomerState, now: float) -> Customer:
    """The model's view of a state of a customer who bought at least once. One whose every
    order was cancelled counts as one purchase with no value: they did place it."""
    h = History.of(max(st.orders, 1), st.first_order, st.last_order, now)
    mean_value = st.spend / st.orders / 100 if st.orders > 0 else 0.0
    opened = frozenset(SIGNAL_NAMES[code] for code in range(len(SIGNAL_NAMES))
                       if st.open_mask >> code & 1)
    return Customer(h, mean_value, opened)


class Scorer:
    """The models of one parameter file, ready to score."""

    def __init__(self, doc: ModelDoc) -> None:
        self.doc = doc  # also holds the fitted population (detection.population.mode)
        self.version = doc.version
        self.mbg, self.gg, self.risk = doc.mbg, doc.gg, doc.risk_model

    def values(self, c: Customer) -> list[float]:
        return raw_values(c, self.risk.feature_weeks, self.mbg, self.gg)

    @property
    def horizon_days(self) -> float:
        return round(self.risk.horizon_weeks * 7, 4)

    def assess(self, st: CustomerState, now: float) -> Assessment:
        """Each model output once: the forecast's parts feed both the risk's features and
        the value at risk (an alert's scores were a tenth of replay on alert-heavy logs)."""
        if not st.first_order:
            return UNSCORED
        c = customer(st, now)
        h = c.history
        weeks = self.risk.horizon_weeks
        alive = p_alive(h, self.mbg)
        if_alive = expected_purchases_if_alive(h, weeks, self.mbg)
        if_alive_then = if_alive if self.risk.feature_weeks == weeks else \
            expected_purchases_if_alive(h, self.risk.feature_weeks, self.mbg)
        per_order = expected_spend(h.x + 1, c.mean_value, self.gg)
        risk, drivers = self.risk.explain(features(c, alive * if_alive_then, per_order))
        return Assessment(round(alive, 4), round(risk, 4), round(risk * (if_alive * per_order), 2),
                          drivers)
