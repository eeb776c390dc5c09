"""Per-customer state: everything the signals need, kept small enough for a changelog.

Design choices, each for size or determinism:
- F and M roll over the window in 12 buckets (a ring indexed by absolute bucket number),
  so the window is exact to one bucket (~30 days at the default 365-day window).
- Money is held in integer cents and times as integer seconds (except ``through``), so
  sums are exact and a replay is byte-identical.
- Ids (promotions, tickets, orders, recent events) are kept as 32-bit CRC hashes.
- Events that arrived but are not yet due (inside the lateness bound) wait in ``pending``,
  so the buffer survives a crash together with the state it will change.
"""

from __future__ import annotations

import math
import zlib
from bisect import insort
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

import msgpack

from churnwatch.models.events import (
    AnyEvent,
    ChannelChange,
    CommunityPost,
    Complaint,
    Order,
    PromotionOffered,
    Visit,
    parse_event,
)

N_BUCKETS = 12
RECENT_IDS = 8
RECENT_ORDERS = 4
MAX_PROMOS = 4
MAX_TICKETS = 4
DAY = 86_400.0
STATE_VERSION = 4  # 2 added ``sources``, 3 ``loop``, 4 ``predictions``; older states are
# read with none

SEVERITY_RANK = {"inquiry": 0, "minor": 1, "major": 2, "refund_request": 3, "exchange_request": 3}
DEMAND_RANK = 3
"""Rank of a refund or exchange demand: the top of the escalation ladder."""


def id_hash(value: str) -> int:
    """Stable 32-bit hash of an id (CRC-32: fast, deterministic across processes)."""
    return zlib.crc32(value.encode())


def cents(amount: float) -> int:
    return round(amount * 100)


class Prior(NamedTuple):
    """The few values signals compare against, taken before an item changes the state
    (a tuple: one is made for every item)."""

    orders: int
    usual_value: int
    skips: int
    tickets: Sequence[Sequence[int]]
    open_mask: int
    open_since: int


@dataclass(slots=True)
class CustomerState:
    """Mutable state of one customer. Transitions are the ``apply_*`` methods below."""

    first_seen: int = 0
    first_order: int = 0  # 0 = no order yet
    last_order: int = 0
    orders: int = 0  # lifetime placed orders, net of cancellations
    spend: int = 0  # lifetime net spend, cents
    bucket_end: int = 0  # absolute index of the newest F/M bucket
    counts: list[int] = field(default_factory=lambda: [0] * N_BUCKETS)
    amounts: list[int] = field(default_factory=lambda: [0] * N_BUCKETS)  # cents
    usual_value: int = 0  # EWMA of order value, cents
    eng_fast: float = 0.0  # decayed visits+posts, short half-life
    eng_slow: float = 0.0  # decayed visits+posts, long half-life
    eng_at: int = 0  # time both counters were last decayed to (= last visit/post)
    eng_since: int = 0  # first visit/post
    promos: list[list[int]] = field(default_factory=list)  # [promo hash, expires_at]
    skips: int = 0  # consecutive offers that expired unredeemed
    tickets: list[list[int]] = field(default_factory=list)  # [ticket hash, max rank, last seen]
    recent_ids: list[int] = field(default_factory=list)  # hashes of the last processed events
    recent_orders: list[list[int]] = field(default_factory=list)  # [order hash, bucket, cents]
    fired: dict[int, int] = field(default_factory=dict)  # signal code -> last fired time
    open_mask: int = 0  # signals alerted since the last order (for `recovered`)
    open_since: int = 0
    tier: int = -1  # last tier rank seen (0 = diamond), -1 = never classified
    tier_peak: int = 0  # highest rolling spend (cents) seen while in that tier
    segment: int = -1  # last segment code seen
    contribution: list[int] = field(default_factory=list)  # [last_order, F, M cents] in stats
    through: float = 0.0  # event time of the last processed item
    next_review: int = 0  # 0 = nothing time-driven pending
    pending: list[AnyEvent] = field(default_factory=list)  # accepted, not yet due
    seq: int = -1  # transport position of the last input taken in (Kafka offset); lets a
    # restarted worker skip messages redelivered after a crash. Replay leaves it at -1.
    sources: dict[int, int] = field(default_factory=dict)  # source partition key -> the
    # highest source offset of this customer taken in: what the ingest stage forwards
    # again after a restart or rebalance is recognised however long ago it was applied
    # (recent_ids keeps only the last few). Replay leaves it empty.
    loop: list[list[Any]] = field(default_factory=list)  # the customer's alerts still
    # awaiting an action or the end of their attribution window (models/attribution.py)
    predictions: list[list[int]] = field(default_factory=list)  # risks published for the
    # customer whose horizon has not closed yet (models/calibration.py)
    lull_due: tuple[Any, ...] | None = field(default=None, compare=False, repr=False)
    # engagement_drop's deadline and the inputs it came from (signals/engagement_drop.py):
    # derived, never serialized, computed again only when those change
    pending_ids: set[str] | None = field(default=None, compare=False, repr=False)
    # ids of ``pending``, for O(1) duplicate checks; derived, never serialized; None while
    # nothing is pending, as for most customers most of the time (an empty set is 216 B)

    # --- derived values -------------------------------------------------------------

    def window(self, now: float, bucket_seconds: float) -> tuple[int, int]:
        """Rolling (F, M cents) as of ``now``: buckets newer than ``now`` minus the window."""
        f, m, _ = self.window_and_rolloff(now, bucket_seconds)
        return f, m

    def window_and_rolloff(self, now: float, bucket_seconds: float) -> tuple[int, int, int]:
        """The rolling (F, M cents) as of ``now``, and when the oldest non-empty bucket
        still in the window leaves it, changing F or M (0: none). Every item needs both:
        the sums are taken over ring slices (in C), and only the buckets up to the oldest
        non-empty one are looked at one by one."""
        end = self.bucket_end
        first = max(math.floor(now / bucket_seconds) - N_BUCKETS + 1, end - N_BUCKETS + 1)
        if first > end:
            return 0, 0, 0
        counts, amounts = self.counts, self.amounts
        lo, hi = first % N_BUCKETS, end % N_BUCKETS + 1
        if lo < hi:
            f, m = sum(counts[lo:hi]), sum(amounts[lo:hi])
        else:  # the window wraps around the ring
            f = sum(counts[lo:]) + sum(counts[:hi])
            m = sum(amounts[lo:]) + sum(amounts[:hi])
        for idx in range(first, end + 1):
            if counts[idx % N_BUCKETS] or amounts[idx % N_BUCKETS]:
                return f, m, math.ceil((idx + N_BUCKETS) * bucket_seconds)
        return f, m, 0

    def engagement_rates(self, now: float, fast_hl: float, slow_hl: float) -> tuple[float, float]:
        """(recent, baseline) visits+posts per day as of ``now``, from the decayed counters."""
        lf, ls = math.log(2) / (fast_hl * DAY), math.log(2) / (slow_hl * DAY)
        dt = max(0.0, now - self.eng_at)
        return (self.eng_fast * math.exp(-lf * dt) * lf * DAY,
                self.eng_slow * math.exp(-ls * dt) * ls * DAY)

    def mean_gap(self) -> float:
        """Usual seconds between orders: the lifetime mean, robust to one odd gap."""
        if self.orders < 2 or self.last_order <= self.first_order:
            return 0.0
        return (self.last_order - self.first_order) / (self.orders - 1)

    def prior(self, trigger: AnyEvent | None) -> Prior:
        """The values before ``trigger`` is applied. Only a complaint changes the tickets,
        so only then are they copied; otherwise they are the state's own, which this item
        leaves alone."""
        tickets: Sequence[Sequence[int]] = self.tickets
        if isinstance(trigger, Complaint):
            tickets = tuple((t[0], t[1], t[2]) for t in self.tickets)
        return Prior(self.orders, self.usual_value, self.skips, tickets, self.open_mask,
                     self.open_since)

    def seen(self, event_id: str) -> bool:
        ids = self.pending_ids
        return (ids is not None and event_id in ids) or id_hash(event_id) in self.recent_ids

    def hold(self, event: AnyEvent) -> None:
        """Keep an accepted event until it is due, in (event time, event id) order."""
        pending = self.pending
        if not pending or _pending_order(pending[-1]) <= _pending_order(event):
            pending.append(event)  # the usual case: in order
        else:
            insort(pending, event, key=_pending_order)
        if self.pending_ids is None:
            self.pending_ids = set()
        self.pending_ids.add(event.event_id)

    def release(self) -> AnyEvent:
        """The earliest pending event, now due."""
        event = self.pending.pop(0)
        if self.pending:
            assert self.pending_ids is not None
            self.pending_ids.discard(event.event_id)
        else:
            self.pending_ids = None
        return event

    # --- transitions ----------------------------------------------------------------

    def remember(self, event: AnyEvent) -> None:
        self.remember_id(event)
        if not self.first_seen:
            self.first_seen = int(event.ts)

    def remember_id(self, event: AnyEvent) -> None:
        """Only that the event was taken in, for duplicates: what an action report needs,
        which says nothing about the customer's behaviour."""
        self.recent_ids.append(id_hash(event.event_id))
        del self.recent_ids[:-RECENT_IDS]

    def apply_order(self, order: Order, bucket_seconds: float, value_alpha: float) -> None:
        t = int(order.ts)
        if order.status == "placed":
            self._add_order(order, t, bucket_seconds, value_alpha)
        else:
            self._reverse_order(order)

    def _add_order(self, order: Order, t: int, bucket_seconds: float, alpha: float) -> None:
        amount = cents(order.amount)
        self.usual_value = amount if not self.orders else round(
            alpha * amount + (1 - alpha) * self.usual_value)
        self.orders += 1
        self.spend += amount
        self.first_order = self.first_order or t
        self.last_order = max(self.last_order, t)
        idx = math.floor(t / bucket_seconds)
        if idx > self.bucket_end:
            for stale in range(max(self.bucket_end + 1, idx - N_BUCKETS + 1), idx + 1):
                self.counts[stale % N_BUCKETS] = self.amounts[stale % N_BUCKETS] = 0
            self.bucket_end = idx
        if idx > self.bucket_end - N_BUCKETS:
            self.counts[idx % N_BUCKETS] += 1
            self.amounts[idx % N_BUCKETS] += amount
        self.recent_orders.append([id_hash(order.order_id), idx, amount])
        del self.recent_orders[:-RECENT_ORDERS]
        if order.promotion_id is not None:
            redeemed = id_hash(order.promotion_id)
            self.promos = [p for p in self.promos if p[0] != redeemed]
            self.skips = 0
        self.open_mask = 0
        self.open_since = 0

    def _reverse_order(self, order: Order) -> None:
        """Cancelled or refunded: take the order out of M (and F, if fully reversed).

        Only orders still among the last few can be matched; an older reversal leaves the
        window alone rather than guessing which bucket it belongs to.
        """
        key = id_hash(order.order_id)
        for entry in self.recent_orders:
            if entry[0] != key or entry[2] <= 0:
                continue
            _, idx, amount = entry
            taken = amount if order.status == "cancelled" else min(amount, cents(order.amount))
            full = taken >= amount
            entry[2] = amount - taken
            self.spend -= taken
            self.orders -= 1 if full else 0
            if idx > self.bucket_end - N_BUCKETS:
                self.amounts[idx % N_BUCKETS] -= taken
                self.counts[idx % N_BUCKETS] -= 1 if full else 0
            return

    def apply_engagement_activity(self, t: int, fast_hl: float, slow_hl: float) -> None:
        if not self.eng_since:
            self.eng_since = t
        if self.eng_at:
            dt = max(0, t - self.eng_at)
            self.eng_fast *= math.exp(-math.log(2) * dt / (fast_hl * DAY))
            self.eng_slow *= math.exp(-math.log(2) * dt / (slow_hl * DAY))
        self.eng_fast += 1.0
        self.eng_slow += 1.0
        self.eng_at = max(self.eng_at, t)

    def apply_offer(self, offer: PromotionOffered) -> None:
        self.promos.append([id_hash(offer.promotion_id), int(offer.expires_at.timestamp())])
        self.promos.sort(key=lambda p: p[1])
        del self.promos[:-MAX_PROMOS]

    def expire_promotions(self, now: float) -> int:
        """Count offers whose end has passed unredeemed; return how many expired now."""
        expired = [p for p in self.promos if p[1] <= now]
        if expired:
            self.promos = [p for p in self.promos if p[1] > now]
            self.skips += len(expired)
        return len(expired)

    def apply_complaint(self, complaint: Complaint) -> None:
        key, rank, t = id_hash(complaint.ticket_id), SEVERITY_RANK[complaint.severity], int(
            complaint.ts)
        for ticket in self.tickets:
            if ticket[0] == key:
                ticket[1] = max(ticket[1], rank)
                ticket[2] = t
                break
        else:
            self.tickets.append([key, rank, t])
        self.tickets.sort(key=lambda k: k[2])
        del self.tickets[:-MAX_TICKETS]

    def apply(self, event: AnyEvent, *, bucket_seconds: float, value_alpha: float,
              fast_hl: float, slow_hl: float) -> None:
        """Apply one accepted event in event-time order."""
        self.remember(event)
        self.through = max(self.through, event.ts)
        if isinstance(event, Order):
            self.apply_order(event, bucket_seconds, value_alpha)
        elif isinstance(event, Visit | CommunityPost):
            self.apply_engagement_activity(int(event.ts), fast_hl, slow_hl)
        elif isinstance(event, PromotionOffered):
            self.apply_offer(event)
        elif isinstance(event, Complaint):
            self.apply_complaint(event)
        elif isinstance(event, ChannelChange):
            pass  # nothing to keep: `unfollowed` fires on the event itself

    # --- serialization --------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Positional msgpack: no field names on the wire keeps a typical state < 400 B."""
        values: list[Any] = [STATE_VERSION]
        for f in _STORED:
            value = getattr(self, f.name)
            if f.name == "pending":
                value = [p.stored for p in value]
            elif f.name in ("fired", "sources"):
                value = sorted(value.items())
            values.append(value)
        return msgpack.packb(values, use_bin_type=True)

    @classmethod
    def from_bytes(cls, data: bytes) -> CustomerState:
        values = msgpack.unpackb(data, raw=False, strict_map_key=False)
        if values[0] in (1, 2, 3):  # no sources, loop or predictions yet
            values += [[] for _ in range(STATE_VERSION - values[0])]
        elif values[0] != STATE_VERSION:
            raise ValueError(f"unknown state version {values[0]}")
        kwargs: dict[str, Any] = {}
        for f, value in zip(_STORED, values[1:], strict=True):
            if f.name == "pending":
                kwargs[f.name] = [parse_event(raw) for raw in value]
            elif f.name in ("fired", "sources"):
                kwargs[f.name] = {int(k): int(v) for k, v in value}
            else:
                kwargs[f.name] = value
        state = cls(**kwargs)
        state.pending_ids = {e.event_id for e in state.pending} if state.pending else None
        return state


def _pending_order(event: AnyEvent) -> tuple[float, str]:
    return event.ts, event.event_id


_STORED = tuple(f for f in fields(CustomerState) if f.name not in ("pending_ids", "lull_due"))
