"""The dead-letter record: why an input was refused, where it came from, and its bytes.

Original bytes are kept as text when they are UTF-8 and as base64 otherwise, so nothing
is lost and the record stays one JSON line.
"""

from __future__ import annotations

import base64

import orjson


def dead_letter_record(reason: str, raw: bytes, **where: object) -> bytes:
    record: dict[str, object] = {**where, "reason": reason}
    try:
        record["raw"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        record["raw_base64"] = base64.b64encode(raw).decode()
    return orjson.dumps(record)
