"""The customer states of one detector, each held live or encoded.

A live ``CustomerState`` costs about 3 KB of Python objects; its encoding (what the
changelog carries) about 300 B. A worker holding a million customers touches few of them
between two flushes, so it keeps only the recently used ones live and the rest encoded
(``live_limit``). The detector works on live states only: ``compact`` encodes the least
recently used beyond the limit, and the caller runs it between batches, never while an
item is being processed, so no state is encoded while something still changes it.
Encoding is lossless (models/state.py), so the outcome is the same with any limit.

The encoding handed out for a live state (what the worker writes to its changelog) is
remembered until the state is next read, and a later ``compact`` keeps that object: the
table and the detector then share one copy. Every change to a state follows a read of it
within the same item, so a remembered encoding is current until then.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, MutableMapping

from churnwatch.models.state import CustomerState


class CustomerStates(MutableMapping[str, CustomerState]):
    """Customer id -> state. Reading a state makes it live and most recently used."""

    def __init__(self, live_limit: int | None = None) -> None:
        """``live_limit``: live states kept by ``compact``; ``None`` keeps all live."""
        self.live_limit = live_limit
        self._live: OrderedDict[str, CustomerState] = OrderedDict()
        self._encoded: dict[str, bytes] = {}
        self._written: dict[str, bytes] = {}  # encodings of live states not read since

    def __getitem__(self, cid: str) -> CustomerState:
        state = self._live.get(cid)
        if state is not None:
            if self._written:
                self._written.pop(cid, None)
            if self.live_limit is not None and len(self._live) >= self.live_limit:
                # below the limit nothing is encoded, and which state goes first once it
                # is reached changes speed, never an outcome (encoding is lossless)
                self._live.move_to_end(cid)
            return state
        state = CustomerState.from_bytes(self._encoded.pop(cid))
        self._live[cid] = state
        return state

    def __setitem__(self, cid: str, state: CustomerState) -> None:
        self._encoded.pop(cid, None)
        self._written.pop(cid, None)
        self._live[cid] = state
        self._live.move_to_end(cid)

    def __delitem__(self, cid: str) -> None:
        self._written.pop(cid, None)
        if self._live.pop(cid, None) is None:
            del self._encoded[cid]

    def get(self, cid: str, default: None = None) -> CustomerState | None:  # type: ignore[override]
        """A state or None: ``Mapping.get`` raised and caught a KeyError for every new
        customer, and ingest asks for every event."""
        if cid in self._live or cid in self._encoded:
            return self[cid]
        return default

    def __contains__(self, cid: object) -> bool:
        return cid in self._live or cid in self._encoded

    def __iter__(self) -> Iterator[str]:
        yield from self._live
        yield from self._encoded

    def __len__(self) -> int:
        return len(self._live) + len(self._encoded)

    @property
    def live(self) -> int:
        return len(self._live)

    def peek(self, cid: str) -> CustomerState:
        """The state for reading only, without making it live: an encoded one is decoded
        into a copy (changing that changes nothing)."""
        state = self._live.get(cid)
        return state if state is not None else CustomerState.from_bytes(self._encoded[cid])

    def encoded(self, cid: str) -> bytes:
        """The state's encoding, without making it live or more recently used."""
        data = self._encoded.get(cid) or self._written.get(cid)
        if data is None:
            data = self._live[cid].to_bytes()
            if self.live_limit is not None:
                self._written[cid] = data
        return data

    def adopt(self, cid: str, data: bytes) -> CustomerState:
        """Take a stored state (``CustomerState.to_bytes()``); return it decoded. Kept as
        the given bytes when live states are limited: the returned object is then a copy
        for reading (deadlines, statistics), and changing it changes nothing."""
        state = CustomerState.from_bytes(data)
        if self.live_limit is None:
            self[cid] = state
        else:
            self._live.pop(cid, None)
            self._encoded[cid] = data
        return state

    def compact(self) -> int:
        """Encode the least recently used live states beyond the limit; how many."""
        if self.live_limit is None:
            return 0
        count = 0
        while len(self._live) > self.live_limit:
            cid, state = self._live.popitem(last=False)
            data = self._written.pop(cid, None)
            self._encoded[cid] = state.to_bytes() if data is None else data
            count += 1
        return count
