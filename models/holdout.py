"""The holdout group: customers whose alerts are produced but never acted on, so that the
win-back of the others can be compared with what happens anyway.

Membership is a keyed hash of (salt, customer id) into 10,000 buckets (the scheme retention
tools use for global control groups): the same customer is in the same group on every
worker, after every restart and in replay, with no state to keep; a new salt draws a new
group. A share is a bucket range from 0, so groups of larger shares contain those of
smaller ones, and a customer held out of one signal's alerts at 10 % is held out of every
signal's at 10 % or more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

BUCKETS = 10_000


def bucket(salt: str, customer_id: str) -> int:
    """The customer's bucket, 0 to 9,999: BLAKE2b keyed with the salt (a salt longer than
    BLAKE2b's 64-byte key is hashed first)."""
    key = salt.encode()
    if len(key) > 64:
        key = hashlib.blake2b(key).digest()
    digest = hashlib.blake2b(customer_id.encode(), key=key, digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


class Holdout:
    """Which alerts are held out: ``share`` of customers for every signal, or the signal's
    own share from ``by_signal``."""

    def __init__(self, share: float, by_signal: Mapping[str, float], salt: str) -> None:
        self._below = round(share * BUCKETS)
        self._by_signal = {s: round(v * BUCKETS) for s, v in by_signal.items()}
        self._salt = salt
        self.active = bool(self._below or any(self._by_signal.values()))

    def holds(self, customer_id: str, signal: str) -> bool:
        if not self.active:
            return False
        return bucket(self._salt, customer_id) < self._by_signal.get(signal, self._below)
