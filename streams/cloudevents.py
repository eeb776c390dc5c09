"""Alerts as Kafka records, by the CloudEvents Kafka protocol binding.

The binding defines two content modes as alternatives, never mixed in one record: a
reader that finds any ``ce_`` header takes the record for binary mode (the official SDK's
``from_kafka`` does). So a structured record carries only ``content-type`` and the whole
envelope as its value; a binary record carries the attributes as ``ce_`` headers,
``datacontenttype`` as ``content-type``, and only ``data`` as its value. In both the
Kafka key is the customer id, the binding's partition key (``subject``).
"""

from __future__ import annotations

from typing import Literal

import orjson

from churnwatch.engine import AlertOut
from churnwatch.models.alert import Alert

Mode = Literal["structured", "binary"]
STRUCTURED_CONTENT_TYPE = b"application/cloudevents+json; charset=utf-8"


def record(alert: AlertOut, mode: Mode) -> tuple[bytes, bytes, dict[str, bytes]]:
    """(key, value, headers) of one alert."""
    key = alert.subject.encode()
    if mode == "structured":
        return key, alert.json(), {"content-type": STRUCTURED_CONTENT_TYPE}
    doc = alert.doc
    headers = {"content-type": doc["datacontenttype"].encode(),
               **{f"ce_{name}": doc[name].encode()
                  for name in ("specversion", "id", "source", "type", "subject", "time")}}
    return key, alert.data_json(), headers


def envelope(value: bytes, headers: dict[str, bytes]) -> bytes:
    """The structured envelope of a record in either mode, byte for byte what structured
    mode writes (what ``churnwatch tail`` shows)."""
    if not any(name.startswith("ce_") for name in headers):
        return value
    attributes: dict[str, object] = {name[3:]: raw.decode() for name, raw in headers.items()
                                     if name.startswith("ce_")}
    attributes["datacontenttype"] = headers.get("content-type", b"application/json").decode()
    attributes["data"] = orjson.loads(value)
    return Alert.model_validate(attributes).model_dump_json().encode()
