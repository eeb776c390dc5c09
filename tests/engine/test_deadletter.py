"""The dead-letter record keeps the original bytes, and always fits in one message."""

from __future__ import annotations

import base64
import hashlib

import orjson
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.engine import dead_letter_record
from tests.support.hostile import original

WHERE = {"topic": "orders", "partition": 3, "offset": 12345}


@given(st.binary(max_size=2000), st.integers(4096, 10_000))
def test_a_record_within_the_limit_keeps_the_bytes_exactly(raw: bytes, limit: int) -> None:
    row = orjson.loads(dead_letter_record("bad", raw, limit=limit, **WHERE))
    assert original(row) == raw


@given(st.binary(min_size=1, max_size=64).map(lambda b: b * 400), st.integers(4096, 20_000),
       st.text(max_size=300))
def test_a_bigger_one_keeps_head_size_and_hash_and_fits(raw: bytes, limit: int,
                                                        reason: str) -> None:
    body = dead_letter_record(reason, raw, limit=limit, **WHERE)
    assert len(body) <= limit
    row = orjson.loads(body)
    if "raw_sha256" not in row:
        return  # it fitted whole
    assert row["raw_bytes"] == len(raw)
    assert row["raw_sha256"] == hashlib.sha256(raw).hexdigest()
    head = base64.b64decode(row["raw_head_base64"])
    assert raw.startswith(head)
    assert len(body) > limit - 4  # as much of the head as fits (base64 goes by 4)
    assert row["reason"] == reason and row["offset"] == 12345


def test_without_a_limit_megabytes_are_kept_whole() -> None:
    raw = b"x" * 3_000_000
    assert orjson.loads(dead_letter_record("too big", raw, line=7))["raw"].encode() == raw
