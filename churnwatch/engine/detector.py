"""The detection engine shared by ``churnwatch replay`` and the streaming workers.

Event time drives everything. Accepted events wait in their customer's ``pending`` list
until the watermark (event time minus the allowed lateness) passes them; then
every customer's due items, events and time-driven reviews alike, are processed one at a
time in global event-time order ``(time, customer, event before review, event id)``. So a
log reordered within the lateness bound is processed in exactly the same order and gives
exactly the same alerts, and silence is noticed when event time passes a deadline.

Two queues hold what is due: every pending event once, in a heap of ``(time, customer,
event id)``, and each customer's next deadline (review, response deadline, end of an
attribution window or of a risk's horizon) in a heap of ``(time, customer)``. A deadline
that moves later leaves its entry where it is: when that entry comes up, the customer is
put back at its current deadline. So an event costs one push and one pop, not a new
deadline entry each time it moves the customer's review (the single queue of both made
two entries per event, one of them superseded). The work per watermark step is
proportional to the items that are due, not to all customers.

Event time is the newest time a share of the customers active recently has reached
(churnwatch/engine/eventtime.py), so no small group's clock moves anyone else's: their
early events just wait.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from churnwatch.engine.alerting import AlertOut, build_alert
from churnwatch.engine.eventtime import Census
from churnwatch.engine.scoring import Scorer
from churnwatch.models import attribution, calibration
from churnwatch.models.attribution import AlertOutcome, Response
from churnwatch.models.calibration import Settled
from churnwatch.models.events import ActionTaken, AnyEvent, Order, parse_rfc3339
from churnwatch.models.holdout import Holdout
from churnwatch.models.params import ModelDoc
from churnwatch.models.population import EMPTY_VIEW, Population, PopulationView
from churnwatch.models.rfm import SEGMENT_CODES, TIER_RANKS, classify
from churnwatch.models.state import DAY, N_BUCKETS, CustomerState
from churnwatch.models.state_cache import CustomerStates
from churnwatch.settings import Settings
from churnwatch.signals import BY_TRIGGER, CODES, TIMED, Context
from churnwatch.signals.follow_up import NAME as FOLLOW_UP
from churnwatch.signals.follow_up import overdue_finding
from churnwatch.signals.governance import record, suppression

NOT_FOLLOWED = frozenset({CODES["recovered"], CODES[FOLLOW_UP]})
"""Alerts that ask for no action, so open no loop record."""


class Admission(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    LATE = "late"
    AHEAD = "ahead"  # ahead of event time while its customer already holds max_held


@dataclass
class Stats:
    accepted: int = 0
    duplicates: int = 0
    late: int = 0
    out_of_time: int = 0  # refused by the event-time guard before ingest (eventtime.py)
    events_processed: int = 0
    reviews: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    suppressed: Counter[str] = field(default_factory=Counter)
    held_out: Counter[str] = field(default_factory=Counter)
    """alerts (among ``alerts``) held out, by signal"""
    actions: Counter[str] = field(default_factory=Counter)
    """action reports by what they matched: answered, repeat, unknown_alert"""
    untracked: int = 0
    """published risks not followed: their customer had the most open already"""


@dataclass
class Restored:
    """What ``Detector.restore`` adopted: counts for the log (no customer ids)."""

    customers: int = 0
    through: float = 0.0  # newest event time processed
    newest_offset: int = -1
    pending: int = 0

    def add(self, state: CustomerState) -> None:
        self.customers += 1
        self.through = max(self.through, state.through)
        self.newest_offset = max(self.newest_offset, state.seq)
        self.pending += len(state.pending)


class Detector:
    """Owns customer states, the due queue and the population statistics."""

    def __init__(self, settings: Settings, scorer: Scorer | None = None,
                 stats: Stats | None = None, live_limit: int | None = None) -> None:
        """``live_limit``: customer states kept decoded between batches (``compact``);
        ``None`` keeps all (models/state_cache.py)."""
        self.settings = settings.detection
        self.source = settings.source
        self.scorer = scorer or Scorer(settings.risk.doc())
        self.lateness = self.settings.allowed_lateness.total_seconds()
        self.bucket_seconds = self.settings.window_days * DAY / N_BUCKETS
        self.states = CustomerStates(live_limit)
        self.population = Population()
        self.view: PopulationView = EMPTY_VIEW
        self.view_provider: Callable[[], PopulationView] = self.population.view
        """Where classifications get live population statistics; streaming merges
        partitions. Unused when they are fitted (``fitted``)."""
        self.fitted = settings.detection.population.mode == "fitted"
        if self.fitted:
            self.view = fitted_view(self.scorer.doc)
        self.census = Census.of(self.settings.event_time)
        """Each customer's newest event time: replay's event time; a worker's clock
        merges those of every partition."""
        self.max_held = self.settings.event_time.max_held
        self.end = -math.inf
        """Where ``finish`` stopped event time."""
        self.stats = stats or Stats()
        """Counters; detectors of several partitions may share one."""
        self.touched: set[str] = set()
        """Customers whose state changed since the caller last cleared this set."""
        loop = settings.loop
        self.holdout = Holdout(loop.holdout_share, loop.holdout_by_signal, loop.holdout_salt)
        self.follow_up = loop.follow_up
        self.attribution = int(loop.attribution_days * DAY)
        self.outcomes: list[AlertOutcome] = []
        """Attribution windows closed since the caller last took them."""
        self.responses: list[Response] = []
        """Actions that answered an alert, since the caller last took them."""
        self.breaches: list[int] = []
        """Tier ranks of the alerts that went overdue, since the caller last took them."""
        self.settled: list[Settled] = []
        """Published risks whose horizon closed, since the caller last took them."""
        self._horizon = round(self.scorer.horizon_days * DAY)
        self._events: list[tuple[float, str, str]] = []  # (time, customer, event id)
        self._timers: list[tuple[float, str]] = []  # (deadline or earlier, customer)
        self._armed: dict[str, float] = {}  # each customer's earliest entry in _timers
        self._since_refresh = 0

    # --- input ----------------------------------------------------------------------

    @property
    def watermark(self) -> float:
        return self.census.time - self.lateness

    def ingest(self, event: AnyEvent, event_time: float | None = None) -> Admission:
        """Accept an event into its customer's pending list, or say why not.
        ``event_time``: where event time stands (a worker's clock); None in replay, where
        it is the detector's own census's."""
        cid = event.customer_id
        st = self.states.get(cid)
        if st is not None and st.seen(event.event_id):
            self.stats.duplicates += 1
            return Admission.DUPLICATE
        if st is not None and event.ts < st.through:
            self.stats.late += 1
            return Admission.LATE
        if st is not None and len(st.pending) >= self.max_held and event.ts > (
                self.census.time if event_time is None else event_time) > -math.inf:
            self.stats.out_of_time += 1
            return Admission.AHEAD
        self.census.observe(cid, event.ts)  # what the states hold: restored as it was
        if st is None:
            st = self.states[cid] = CustomerState()
        st.hold(event)
        heapq.heappush(self._events, (event.ts, cid, event.event_id))
        self.stats.accepted += 1
        self.touched.add(cid)
        return Admission.ACCEPTED

    def restore(self, stored: Iterable[tuple[str, bytes]]) -> Restored:
        """Adopt customer states recovered from storage (a changelog), with their
        deadlines: ``(customer id, CustomerState.to_bytes())`` pairs."""
        restored = Restored()
        with _collector_paused():
            for customer_id, data in stored:
                state = self.states.adopt(customer_id, data)
                self.population.replace([], state.contribution)
                for event in state.pending:
                    heapq.heappush(self._events, (event.ts, customer_id, event.event_id))
                self._arm(customer_id, state)
                restored.add(state)
                self.census.observe(customer_id, max(  # pending is sorted: the last is newest
                    state.through, state.pending[-1].ts if state.pending else -math.inf))
        return restored

    def compact(self) -> int:
        """Encode the least recently used customer states beyond the live limit. Only
        between items: a state being processed must stay live."""
        return self.states.compact()

    # --- processing -----------------------------------------------------------------

    def advance(self, until: float | None = None, *, inclusive: bool = False) -> list[AlertOut]:
        """Process every item due before ``until`` (default: the watermark), in the order
        ``(time, customer, event before deadline, event id)``."""
        limit = self.watermark if until is None else until
        alerts: list[AlertOut] = []
        events, timers, armed, states = self._events, self._timers, self._armed, self.states
        while events or timers:
            if events and (not timers or events[0][:2] <= timers[0]):
                due, cid, _ = events[0]
                if not (due < limit or (inclusive and due == limit)):
                    break
                heapq.heappop(events)  # the customer's earliest pending event
                st = states[cid]
            else:
                due, cid = timers[0]
                if not (due < limit or (inclusive and due == limit)):
                    break
                heapq.heappop(timers)
                if armed.get(cid) != due:
                    continue  # an earlier entry of the customer's came up before it
                del armed[cid]
                st = states[cid]
                if self._timer_due(st) > due:  # the deadline moved later meanwhile
                    self._arm(cid, st)
                    continue
            self._step(cid, st, due, alerts)
            self._arm(cid, st)
        return alerts

    def finish(self, as_of: float | None = None) -> list[AlertOut]:
        """End of input: let event time run on to where the census puts it (or ``as_of``,
        if later), then run what customers ahead of it still hold, each on its own: their
        events and reviews up to their last event, without moving anyone else's time."""
        self.end = max(self.census.end(), -math.inf if as_of is None else as_of)
        alerts = self.advance(self.end, inclusive=True)
        ahead = [(self._due(st), cid) for cid in {cid for _, cid, _ in self._events}
                 if (st := self.states[cid]).pending]
        heapq.heapify(ahead)
        while ahead:
            due, cid = heapq.heappop(ahead)
            st = self.states[cid]
            self._step(cid, st, due, alerts)
            if st.pending:
                heapq.heappush(ahead, (self._due(st), cid))
        return alerts

    def held_out(self, alert: AlertOut) -> bool:
        """Whether an alert is for the holdout group: produced, never to be acted on. A
        follow-up never is: it exists only for a treated alert, even where the customer
        is held out of other signals (``loop.holdout_by_signal``)."""
        return alert.signal != FOLLOW_UP and self.holdout.holds(alert.subject, alert.signal)

    def _arm(self, cid: str, st: CustomerState) -> None:
        """Make sure the customer's next deadline has an entry in the timer heap at or
        before it (a later deadline keeps the earlier entry: see ``advance``)."""
        due = self._timer_due(st)
        if due < self._armed.get(cid, math.inf):
            self._armed[cid] = due
            heapq.heappush(self._timers, (due, cid))

    def _timer_due(self, st: CustomerState) -> float:
        """The customer's next deadline: its review, or a loop record's or a
        prediction's."""
        due = float(st.next_review or math.inf)
        if st.loop:
            due = min(due, attribution.due(st, self.attribution) or math.inf)
        if st.predictions:
            due = min(due, calibration.due(st.predictions))
        return due

    def _due(self, st: CustomerState) -> float:
        """When the customer's next item is due: its earliest pending event, or its next
        deadline."""
        return min(st.pending[0].ts if st.pending else math.inf, self._timer_due(st))

    def _step(self, cid: str, st: CustomerState, due: float, alerts: list[AlertOut]) -> None:
        """The customer's next item, due at ``due`` (its queue entry, ``_due``): its
        earliest pending event, or its review if that comes first (an event at the same
        time goes first), or, after both, a loop record's or a prediction's deadline."""
        self.touched.add(cid)
        if due < _item_due(st):  # only a loop record or a prediction can be due before both
            self._close_loop(cid, st, due, alerts)
            return
        if st.pending and (not st.next_review or st.pending[0].ts <= st.next_review):
            event = st.release()
            self.stats.events_processed += 1
            if isinstance(event, ActionTaken):
                self._answer(st, event)
            else:
                self._process(cid, st, event, event.ts, alerts)
            return
        now = float(st.next_review)
        st.next_review = 0
        self.stats.reviews += 1
        self._process(cid, st, None, now, alerts)

    def _process(self, cid: str, st: CustomerState, trigger: AnyEvent | None,
                 now: float, alerts: list[AlertOut]) -> None:
        """One item, in one pass: apply it, run the signals it can concern, record the
        classification and the population contribution, set the next review. Every item
        runs this, so it allocates one context and asks each thing once."""
        d = self.settings
        before = st.prior(trigger)
        if trigger is not None:
            st.apply(trigger, bucket_seconds=self.bucket_seconds,
                     value_alpha=d.usual_value_alpha,
                     fast_hl=d.engagement_drop.recent_half_life_days,
                     slow_hl=d.engagement_drop.baseline_half_life_days)
        st.through = max(st.through, now)
        if st.promos:
            st.expire_promotions(now)
        if isinstance(trigger, Order) and trigger.status == "placed":
            if st.loop:
                attribution.bought(st, trigger, self.attribution)
            if st.predictions:
                calibration.bought(st.predictions, int(trigger.ts))
        view = self.view
        f, m, rolloff = st.window_and_rolloff(now, self.bucket_seconds)
        window = (f, m)
        segment, tier = classify(st, now, view, window)
        ctx = Context(cid, now, trigger, before, st, view, d, window, segment, tier)
        for signal in BY_TRIGGER[type(trigger)]:
            finding = signal.evaluate(ctx)
            if finding is None:
                continue
            why = suppression(finding, st, now, d.governance)
            if why is not None:
                self.stats.suppressed[why] += 1
                continue
            record(finding, st, now)
            self.stats.alerts[finding.signal] += 1
            alert = build_alert(finding, ctx, self.source, self.scorer)
            alerts.append(alert)
            self._predicted(st, alert, now)
            self._opened(st, alert, now, TIER_RANKS[tier])
        # segment and tier, and the peak spend within the tier, for the next item
        rank = TIER_RANKS[tier]
        st.tier_peak = max(st.tier_peak, window[1]) if rank == st.tier else window[1]
        st.segment = SEGMENT_CODES.get(segment, -1)
        st.tier = rank
        if st.first_order:
            self._contribute(st, window)
        st.next_review = self._next_review(st, now, rolloff)

    def _opened(self, st: CustomerState, alert: AlertOut, now: float, tier: int) -> None:
        """Open the alert's loop record: its attribution window, and its response deadline
        if it is treated and follow-ups are on."""
        signal = alert.signal
        held_out = self.held_out(alert)
        if held_out:
            self.stats.held_out[signal] += 1
        if CODES[signal] in NOT_FOLLOWED:
            return
        due = int(alert.respond_by) if self.follow_up and not held_out else 0
        attribution.open_record(st, alert.id, CODES[signal], tier, int(now), held_out, due)

    def _predicted(self, st: CustomerState, alert: AlertOut, now: float) -> None:
        """Follow the risk the alert publishes until its horizon closes."""
        risk = alert.doc["data"]["risk"]
        if risk is not None and not calibration.predict(st.predictions, int(now),
                                                        self._horizon, risk):
            self.stats.untracked += 1

    def _answer(self, st: CustomerState, action: ActionTaken) -> None:
        """An action report: it answers its alert's record, if the customer has one."""
        st.remember_id(action)
        answered = attribution.answer(st, action)
        if isinstance(answered, Response):
            self.responses.append(answered)
        self.stats.actions["answered" if isinstance(answered, Response) else
                           "repeat" if answered else "unknown_alert"] += 1

    def _close_loop(self, cid: str, st: CustomerState, now: float, alerts: list[AlertOut]) -> None:
        """Event time passed a record's deadline: raise what is overdue, close the
        attribution windows and the risk horizons that ended. Not an item: no signal runs
        and the customer's classification and event time stay as they were, so alerts
        never depend on it."""
        late = attribution.overdue(st, now) if self.follow_up else []
        if late:
            f, m = st.window(now, self.bucket_seconds)
            segment, tier = classify(st, now, self.view, (f, m))
            ctx = Context(cid, now, None, st.prior(None), st, self.view, self.settings,
                          (f, m), segment, tier)
            for rec in late:
                self.breaches.append(rec[attribution.TIER])
                finding = overdue_finding(rec)
                self.stats.alerts[finding.signal] += 1
                alert = build_alert(finding, ctx, self.source, self.scorer)
                alerts.append(alert)
                self._predicted(st, alert, now)
        self.outcomes += attribution.close(cid, st, now, self.attribution)
        if st.predictions:
            self.settled += calibration.ended(st.predictions, now)

    def _next_review(self, st: CustomerState, now: float, rolloff: int) -> int:
        """The earliest deadline after ``now`` (0: none), the window's rolloff included."""
        best: int | None = rolloff if rolloff > now else None
        for signal in TIMED:
            t = signal.deadline(st, self.settings)
            if t > now and (best is None or t < best):
                best = t
        return 0 if best is None else best

    def _contribute(self, st: CustomerState, window: tuple[int, int]) -> None:
        """Keep this customer's (last order, F, M) current in the population statistics."""
        old = st.contribution
        if old and old[0] == st.last_order and old[1] == window[0] and old[2] == window[1]:
            return
        new = [st.last_order, window[0], window[1]]
        self.population.replace(old, new)
        st.contribution = new
        self._since_refresh += 1
        threshold = min(self.settings.population.refresh_every, max(1, self.population.n // 10))
        if self._since_refresh >= threshold:
            self.refresh_view()

    def refresh_view(self) -> None:
        if not self.fitted:
            self.view = self.view_provider()
        self._since_refresh = 0


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Adopting a partition creates millions of long-lived objects, and Python's cyclic
    collector would scan them all again at every full collection: three quarters of the
    time (measured: 40 us per customer with it, 10 without). Nothing made here forms a
    cycle; afterwards the adopted states are frozen out of later collections too. So is
    everything else alive at that moment: a reference cycle among those objects that
    becomes garbage later is not freed (what the process held at one adoption, at most)."""
    gc.collect()  # frozen garbage would never be freed: start from none
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _item_due(st: CustomerState) -> float:
    """When the customer's next item is due: its earliest pending event or its review."""
    return min(st.pending[0].ts if st.pending else math.inf, st.next_review or math.inf)


def fitted_view(doc: ModelDoc) -> PopulationView:
    """The fitted log's population, frozen at the end of that log."""
    if doc.population is None:
        raise ValueError(f"model {doc.version} has no fitted population")
    return doc.population.population().view(as_of=parse_rfc3339(doc.fitted.as_of).timestamp())
