"""The replay loop: every item through one detector, in input order, with what the
watermark passes released as it goes."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from churnwatch.engine import (
    LATE_REASON,
    Admission,
    AlertOut,
    Detector,
    EventTimeGuard,
    Stats,
    ahead_reason,
)
from churnwatch.models.events import InvalidEvent
from churnwatch.models.rfm import snapshot
from churnwatch.models.summary import CustomerSummary
from churnwatch.replayer.inputs import Parsed
from churnwatch.replayer.results import Counts, DeadLetter
from churnwatch.settings import Settings


def detector_for(settings: Settings) -> Detector:
    """A detector for a whole log: beyond ``runtime.live_customers`` it keeps the states
    of the customers least recently seen encoded (~300 B instead of ~3 KB; lossless, so
    the outputs are the same), so a log of millions of customers fits in memory."""
    return Detector(settings, live_limit=settings.runtime.live_customers)


COMPACT_EVERY = 1024
"""Items between two ``Detector.compact`` calls in replay."""


@contextmanager
def _long_lived_spared() -> Iterator[Callable[[], None]]:
    """Python's cyclic collector rescans every object still alive at each full
    collection, and a replay holds millions that never form a cycle (states, events,
    queue entries) while it makes new ones all the time: a quarter of the time of a replay
    of 200,000 customers with most states encoded went to it. The function given moves
    everything alive so far out of the collector's sight (``gc.freeze``); at the end all of
    it is handed back (``gc.unfreeze``), so a cycle among it that became garbage meanwhile
    is still collected. Nothing is frozen if something else already froze objects: that
    was somebody else's decision, which unfreezing would undo."""
    if gc.get_freeze_count():
        yield lambda: None
        return
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def run(detector: Detector, items: Iterable[Parsed], as_of: float | None
         ) -> Iterator[AlertOut | DeadLetter]:
    """The engine: ingest each item, release what the watermark passed, finish at ``as_of``."""
    guard = EventTimeGuard(detector.settings.event_time)
    with _long_lived_spared() as spare:
        for n, (lineno, raw, event) in enumerate(items, 1):
            if not n % COMPACT_EVERY:
                detector.compact()
                detector.touched.clear()  # for a worker's flushes; nobody reads it here
                spare()
            if isinstance(event, InvalidEvent):
                yield DeadLetter(lineno, str(event), raw)
                continue
            if (why := guard.refuse(event.ts)) is not None:
                detector.stats.out_of_time += 1
                yield DeadLetter(lineno, why, raw)
                continue
            admitted = detector.ingest(event)
            if admitted is Admission.LATE:
                yield DeadLetter(lineno, LATE_REASON, raw)
            elif admitted is Admission.AHEAD:
                yield DeadLetter(lineno, ahead_reason(
                    event.ts, detector.census.time, detector.max_held), raw)
            yield from detector.advance()
        yield from detector.finish(as_of)
        detector.compact()  # the customer lines then decode one state at a time


def summaries(detector: Detector) -> Iterator[CustomerSummary]:
    """One line per customer as of where ``finish`` left event time (a customer run on
    ahead of it: as of its own time), sorted by customer id."""
    if not detector.states:
        return
    detector.refresh_view()
    for cid in sorted(detector.states):
        st = detector.states.peek(cid)
        if not st.first_seen:
            continue
        now = max(detector.end, float(st.through))
        as_of_time = datetime.fromtimestamp(now, UTC)
        rfm = snapshot(st, now, detector.view, st.window(now, detector.bucket_seconds))
        score = detector.scorer.assess(st, now)
        yield CustomerSummary(
            customer_id=cid, recency_days=rfm.recency_days, frequency=rfm.frequency,
            monetary=rfm.monetary, segment=rfm.segment, tier=rfm.tier, as_of=as_of_time,
            risk_horizon_days=detector.scorer.horizon_days, p_alive=score.p_alive,
            risk=score.risk, value_at_risk=score.value_at_risk)

def tally(stats: Stats, lines: int, invalid: int, customers: int) -> Counts:
    return Counts(lines=lines, invalid=invalid, accepted=stats.accepted,
                  duplicates=stats.duplicates, late=stats.late, out_of_time=stats.out_of_time,
                  customers=customers,
                  alerts=dict(sorted(stats.alerts.items())),
                  suppressed=dict(sorted(stats.suppressed.items())),
                  held_out=dict(sorted(stats.held_out.items())),
                  actions=dict(sorted(stats.actions.items())), untracked=stats.untracked)
