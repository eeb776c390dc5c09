"""Hostile input for replay and for the source topics: every kind of bad message once
(``HOSTILE``), and a seeded corpus of any size that mixes them with mutations of valid
events aimed at real customers."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator

import orjson

from churnwatch.engine import EventTimeGuard
from churnwatch.models.events import InvalidEvent, parse_event
from churnwatch.settings import EventTimeSettings


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

# Values a field of a valid event is replaced with (written raw: NaN is not JSON)
BAD_VALUES: tuple[bytes, ...] = (
    b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1", b"0", b"1e308", b"9" * 30,
    b'""', b'"   "', b'"\\u0000"', b'"\\u001b[2J"', b'"' + b"x" * 5000 + b'"', b"null", b"true",
    b"[]", b"{}", b'{"a":' * 200 + b"1" + b"}" * 200, b'"2024-03-01T10:00:00"',
    b'"0001-01-01T00:00:00Z"', b'"9999-12-31T23:59:59Z"', b'"yesterday"', b"20240301",
)


def original(row: dict[str, str]) -> bytes:
    """The original bytes a dead-letter record holds in full (``raw`` or ``raw_base64``)."""
    return row["raw"].encode() if "raw" in row else base64.b64decode(row["raw_base64"])


def is_refused(raw: bytes) -> bool:
    """Refused by replay and by a worker, whichever topic it lands on: invalid under the
    contract with or without a kind filled in, or a timestamp outside the sane range."""
    guard = EventTimeGuard(EventTimeSettings())
    for kind in (None, "order", "engagement", "complaint"):
        try:
            event = parse_event(raw, kind)
        except InvalidEvent:
            continue
        if guard.refuse(event.ts) is None:
            return False
    return True


def corpus(valid: list[bytes], n: int, seed: int, huge: int = 0) -> Iterator[bytes]:
    """``n`` hostile messages, each refused (``is_refused``): the ``HOSTILE`` kinds, valid
    events of the log with one field replaced by a bad value, or cut short, or with bytes
    flipped to invalid UTF-8, and ``huge`` lines of 1 to 3 MB among them."""
    rnd = random.Random(seed)
    kinds = [raw for name, raw in HOSTILE.items() if name != "2 MB line"]
    made = 0
    huge_at = set(rnd.sample(range(n), huge)) if huge else set()
    while made < n:
        if made in huge_at:
            yield b'{"kind":"order","pad":"' + b"x" * rnd.randrange(1 << 20, 3 << 20) + b'"}'
            made += 1
            continue
        how = rnd.random()
        if how < 0.2:
            raw = rnd.choice(kinds)
        else:
            base = rnd.choice(valid)
            if how < 0.8:
                raw = _replace_field(base, rnd)
            elif how < 0.9:
                raw = base[:rnd.randrange(1, len(base))]
            else:
                at = rnd.randrange(len(base))
                raw = base[:at] + b"\xff\xfe" + base[at:]
        if is_refused(raw):
            yield raw
            made += 1


def _replace_field(line: bytes, rnd: random.Random) -> bytes:
    body = orjson.loads(line)
    name = rnd.choice(sorted(body))
    body[name] = "\x00PLACEHOLDER"
    text = orjson.dumps(body)
    return text.replace(b'"\\u0000PLACEHOLDER"', rnd.choice(BAD_VALUES))
