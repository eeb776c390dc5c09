"""JSON Schemas of everything churnwatch reads or writes, for consumers to validate with."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from churnwatch.models.alert import SCHEMA_VERSION, Alert
from churnwatch.models.events import (
    EVENT_ADAPTER,
    EVENT_SCHEMA_VERSION,
    ActionTaken,
    Complaint,
    Order,
)
from churnwatch.models.events import Engagement as EngagementEvent
from churnwatch.models.summary import CustomerSummary

EARLIER = ("alert.v1.json", "customer.v1.json")
"""Schemas of output versions this code no longer writes, kept in ``schemas/`` as
published for readers still on them (docs/CONTRACT.md says how to move on)."""


def schemas() -> dict[str, dict[str, object]]:
    """What this code reads (input events, still v1) and writes (alerts, customer lines)."""
    inputs = EVENT_SCHEMA_VERSION
    return {
        f"event.{inputs}.json": EVENT_ADAPTER.json_schema(),
        f"order.{inputs}.json": Order.model_json_schema(),
        f"engagement.{inputs}.json": TypeAdapter(EngagementEvent).json_schema(),
        f"complaint.{inputs}.json": Complaint.model_json_schema(),
        f"action.{inputs}.json": ActionTaken.model_json_schema(),
        f"alert.{SCHEMA_VERSION}.json": Alert.model_json_schema(mode="serialization"),
        f"customer.{SCHEMA_VERSION}.json": CustomerSummary.model_json_schema(),
    }


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written
