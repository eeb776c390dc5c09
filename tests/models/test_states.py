"""The customer-state store: which states are decoded, and that encoding loses nothing."""

from __future__ import annotations

from churnwatch.models.state import CustomerState
from churnwatch.models.state_cache import CustomerStates


def state(orders: int) -> CustomerState:
    return CustomerState(orders=orders, spend=100 * orders, fired={3: 7, 1: 9})


def test_compact_encodes_the_least_recently_used_beyond_the_limit() -> None:
    states = CustomerStates(live_limit=2)
    for n, cid in enumerate("abc"):
        states[cid] = state(n)
    states["a"].orders = 10  # a is now the most recently used
    assert states.compact() == 1
    assert states.live == 2
    assert states.encoded("b") == state(1).to_bytes()  # b was the oldest
    assert len(states) == 3 and "b" in states and set(states) == {"a", "b", "c"}
    assert states["b"] == state(1)  # decoded again on reading, unchanged
    assert states["a"].orders == 10


def test_without_a_limit_everything_stays_decoded() -> None:
    states = CustomerStates()
    kept = states["a"] = state(1)
    assert states.compact() == 0
    assert states["a"] is kept


def test_adopted_states_stay_as_their_bytes_under_a_limit() -> None:
    data = state(4).to_bytes()
    states = CustomerStates(live_limit=10)
    copy = states.adopt("a", data)
    copy.orders = 99  # a copy for reading: changes nothing stored
    assert states.live == 0
    assert states.encoded("a") is data
    assert states["a"] == state(4)
    unlimited = CustomerStates()
    assert unlimited.adopt("a", data) is unlimited["a"]


def test_a_state_set_again_replaces_its_encoding() -> None:
    states = CustomerStates(live_limit=1)
    states["a"] = state(1)
    states["b"] = state(2)
    states.compact()
    states["a"] = state(5)
    assert states["a"].orders == 5 and len(states) == 2
    del states["a"]
    del states["b"]
    assert len(states) == 0 and "a" not in states


def test_an_encoding_handed_out_is_kept_until_the_state_is_read_again() -> None:
    states = CustomerStates(live_limit=1)
    states["a"], states["b"] = state(1), state(2)
    written = states.encoded("a")  # what the worker writes to the changelog
    assert states.encoded("a") is written
    states.compact()
    assert states.encoded("a") is written  # one copy, shared with the table
    states["b"].orders = 7
    changed = states.encoded("b")
    states["b"].orders = 8  # read again and changed: the remembered encoding is stale
    states["a"]  # makes b the least recently used
    states.compact()
    assert states.encoded("b") != changed
    assert states["b"].orders == 8
