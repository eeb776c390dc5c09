"""One line of ``CUSTOMERS.jsonl``: a customer as of the end of a replay (docs/CONTRACT.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CustomerSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    recency_days: float | None = Field(description="null if the customer never bought")
    frequency: int
    monetary: float
    segment: str
    tier: Literal["diamond", "core", "potential", "basic"]
    p_alive: float = Field(ge=0, le=1)
    risk: float = Field(ge=0, le=1)
    value_at_risk: float = Field(ge=0)
