"""The dead-letter record: why an input was refused, where it came from, and its bytes.

Original bytes are kept as text when they are UTF-8 and as base64 otherwise, so nothing
is lost and the record stays one JSON line. A record must also fit in one Kafka message:
above ``limit`` it keeps the head of the bytes with their size and SHA-256 instead, and
names where the whole message is (topic, partition, offset). Without the limit, one
message of megabytes made the producer refuse the record and stopped the worker.
"""

from __future__ import annotations

import base64
import hashlib

import orjson

_HEAD = "raw_head_base64"


def dead_letter_record(reason: str, raw: bytes, *, limit: int | None = None,
                       **where: object) -> bytes:
    record: dict[str, object] = {**where, "reason": reason}
    try:
        record["raw"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        record["raw_base64"] = base64.b64encode(raw).decode()
    body = orjson.dumps(record)
    if limit is None or len(body) <= limit:
        return body
    if "raw" in record:  # JSON escapes can make text longer than its base64
        del record["raw"]
        record["raw_base64"] = base64.b64encode(raw).decode()
        body = orjson.dumps(record)
        if len(body) <= limit:
            return body
    record = {**where, "reason": reason, "raw_bytes": len(raw),
              "raw_sha256": hashlib.sha256(raw).hexdigest(), _HEAD: ""}
    room = limit - len(orjson.dumps(record))
    head = raw[:max(0, room) // 4 * 3]  # base64: 4 characters per 3 bytes
    record[_HEAD] = base64.b64encode(head).decode()
    return orjson.dumps(record)
