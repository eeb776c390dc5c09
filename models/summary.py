"""One line of ``CUSTOMERS.jsonl``: a customer as of the end of a replay (docs/CONTRACT.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from churnwatch.models.alert import AsOf, HorizonDays, Probability, ValueAtRisk
from churnwatch.models.vocabulary import Tier


class CustomerSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    recency_days: float | None = Field(description="null if the customer never bought")
    frequency: int
    monetary: float
    segment: str
    tier: Tier
    as_of: AsOf  # the end of the log, or --as-of
    risk_horizon_days: HorizonDays
    p_alive: Probability
    risk: Probability
    value_at_risk: ValueAtRisk
