"""Hostile input through replay: no crash, every bad line dead-lettered with its original
bytes, and the clean log's alerts and customers byte for byte."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

import churnwatch
from churnwatch.generate import generate


def _order(**changes: object) -> bytes:
    body: dict[str, object] = {"kind": "order", "event_id": "h", "customer_id": "c0000001",
                               "occurred_at": "2024-03-01T10:00:00Z", "order_id": "o",
                               "amount": 10.0}
    body.update(changes)
    return orjson.dumps({k: v for k, v in body.items() if v is not None})


HOSTILE: dict[str, bytes] = {
    "invalid UTF-8": b'{"kind": "order", "customer_id": "\xff\xfe"}',
    "truncated JSON": _order()[:37],
    "2 MB line": b'{"kind": "order", "pad": "' + b"x" * 2_000_000 + b'"}',
    "deep nesting": b"[" * 5000 + b"]" * 5000,
    "deep nesting in a field": _order(order_id=None)[:-1] + b',"x":' + b"{\"a\":" * 3000
    + b"1" + b"}" * 3000 + b"}",
    "NaN amount": _order().replace(b"10.0", b"NaN"),
    "infinite amount": _order().replace(b"10.0", b"1e999"),
    "negative amount": _order(amount=-5.0),
    "enormous amount": _order(amount=1e300),
    "amount as a string": _order(amount="10.0"),
    "no offset": _order(occurred_at="2024-03-01T10:00:00"),
    "year 1": _order(occurred_at="0001-01-01T00:00:00Z"),
    "year 9999": _order(occurred_at="9999-12-31T23:59:59Z"),
    "unknown kind": _order(kind="refund"),
    "unknown action": b'{"kind":"engagement","event_id":"h","customer_id":"c1",'
                      b'"occurred_at":"2024-03-01T10:00:00Z","action":"teleport"}',
    "wrong type of id": _order(event_id=12345),
    "empty customer id": _order(customer_id=""),
    "blank customer id": _order(customer_id="   "),
    "5000-character customer id": _order(customer_id="c" * 5000),
    "missing customer id": _order(customer_id=None),
    "a JSON array": b'[1, 2, 3]',
    "a JSON string": b'"order"',
    "null": b"null",
    "empty object": b"{}",
    "zero items": _order(items=0),
    "survey score 11": b'{"kind":"engagement","event_id":"h","customer_id":"c1",'
                       b'"occurred_at":"2024-03-01T10:00:00Z","action":"survey","score":11}',
    "offer expiring before it starts": b'{"kind":"engagement","event_id":"h",'
    b'"customer_id":"c1","occurred_at":"2024-03-01T10:00:00Z","action":"promotion_offered",'
    b'"promotion_id":"p","expires_at":"2024-02-01T00:00:00Z"}',
    "control characters only": b"\x00\x01\x02\x1b[2J",
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    tmp = tmp_path_factory.mktemp("clean")
    log = tmp / "log.jsonl"
    generate(log, tmp / "labels.jsonl", customers=60, days=240, seed=9,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    return log.read_bytes().splitlines()


def test_every_kind_of_hostile_line_is_refused_on_its_own() -> None:
    for name, raw in HOSTILE.items():
        result = churnwatch.replay([raw])
        assert len(result.dead_letters) == 1, name
        assert result.dead_letters[0].raw == raw, name
        assert result.alerts == [] and result.customers == [], name


def test_thousands_of_hostile_lines_change_nothing_for_the_valid_ones(
        clean: list[bytes], tmp_path: Path) -> None:
    rng = random.Random(13)
    kinds = [raw for name, raw in HOSTILE.items() if name != "2 MB line"]
    mixed: list[bytes] = list(clean)
    hostile = 0
    for _ in range(3000):
        mixed.insert(rng.randrange(1, len(mixed)), rng.choice(kinds))
        hostile += 1
    for _ in range(3):  # a few huge ones: memory stays bounded per line
        mixed.insert(rng.randrange(1, len(mixed)), HOSTILE["2 MB line"])
        hostile += 1
    log = tmp_path / "mixed.jsonl"
    log.write_bytes(b"\n".join(mixed) + b"\n")
    expected = churnwatch.replay(clean).outputs()

    out = {k: tmp_path / f"{k}.jsonl" for k in ("alerts", "customers", "dl")}
    from churnwatch.replayer import replay_files

    report = replay_files(log, out["alerts"], out["customers"],
                          settings=churnwatch.Settings.build(), dead_letter=out["dl"])
    assert out["alerts"].read_bytes() == expected["alerts"]
    assert out["customers"].read_bytes() == expected["customers"]
    rows = [orjson.loads(line) for line in out["dl"].read_bytes().splitlines()]
    assert len(rows) == hostile == report.counts.invalid + report.counts.out_of_time
    for row in rows:
        raw = row["raw"].encode() if "raw" in row else base64.b64decode(row["raw_base64"])
        assert raw == mixed[row["line"] - 1]
        assert row["reason"]
