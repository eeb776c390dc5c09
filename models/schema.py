"""JSON Schemas of everything churnwatch reads or writes, for consumers to validate with."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from churnwatch.models.alert import SCHEMA_VERSION, Alert
from churnwatch.models.events import EVENT_ADAPTER, Complaint, Order
from churnwatch.models.events import Engagement as EngagementEvent
from churnwatch.models.summary import CustomerSummary


def schemas() -> dict[str, dict[str, object]]:
    return {
        f"event.{SCHEMA_VERSION}.json": EVENT_ADAPTER.json_schema(),
        f"order.{SCHEMA_VERSION}.json": Order.model_json_schema(),
        f"engagement.{SCHEMA_VERSION}.json": TypeAdapter(EngagementEvent).json_schema(),
        f"complaint.{SCHEMA_VERSION}.json": Complaint.model_json_schema(),
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
