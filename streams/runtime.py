"""Topics, tables and agents wired to the detection logic. No detection logic lives here.

Data flow::

    orders / engagement / complaints / actions  --ingest-->  <app>-events (by customer_id)
                     |                                          ^   |
              invalid: dead-letter topic              ticks ----+   +--detect--> recall topic
                                                                        |   (held out: the
                                                      customers table (changelog)  holdout topic)

Recovery contract of ``detect``. Its stream acks manually: events are processed, their
alerts confirmed by the broker, the states they touched written to the table, and only
then are the events acked (streams/acks.py, while the agent takes the next batch), so an
offset is never committed before the state it produced. A crash replays the unacked
tail; each state remembers the offset of the last message it took in, so redelivered
messages are recognised and skipped, and event ids deduplicate whatever the ingest stage
sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import faust
from faust.streams import Stream
from mode.types.signals import BaseSignalT

from churnwatch.engine import (
    LATE_REASON,
    Admission,
    Detector,
    EventTimeGuard,
    Scorer,
    Stats,
    ahead_reason,
)
from churnwatch.errors import UserError
from churnwatch.models.alert import rfc3339
from churnwatch.models.events import AnyEvent, InvalidEvent, parse_event
from churnwatch.models.population import Population, PopulationView
from churnwatch.models.vocabulary import TIERS
from churnwatch.settings import Settings
from churnwatch.signals import SIGNAL_NAMES
from churnwatch.streams.acks import Acker, Batch, Write
from churnwatch.streams.admin import (
    CUSTOMERS_TABLE,
    POPULATIONS_TABLE,
    own_topic,
    source_topics,
)
from churnwatch.streams.clock import Census, SourceClock, SourceProgress, tick_body
from churnwatch.streams.health import Health
from churnwatch.streams.internals import (
    committed_offset,
    crashed_agents,
    last_fetched,
    producer_client,
    put_changelog,
    recovery_completed,
    recovery_pending,
)
from churnwatch.streams.metrics import Metrics
from churnwatch.streams.publisher import Publisher
from churnwatch.streams.sensor import MetricsSensor
from churnwatch.streams.store import partition_of

log = logging.getLogger(__name__)

KIND_HEADER = "cw-kind"
TICK_HEADER = "cw-tick"
SOURCE_HEADER = "cw-source"  # "topic/partition@offset" of the source message forwarded


def _source(headers: dict[str, bytes]) -> tuple[str, int] | None:
    """(source partition, offset) of a forwarded event; None from an older worker."""
    raw = headers.get(SOURCE_HEADER)
    if raw is None:
        return None
    where, _, offset = raw.rpartition(b"@")
    return where.decode(), int(offset)


def _known(offset: object) -> int | None:
    return offset if isinstance(offset, int) and offset >= 0 else None


PROBE_EVERY = 5.0  # seconds between broker probes; also the probe's timeout
POLL_FRESH = 2.0
"""A source partition's high-water mark counts as current only this many seconds after
the fetch response that brought it (an idle partition is fetched every half second)."""
CENSUS_MARGIN = 3600.0
"""Seconds of event time before a detect partition's own answer from which its census
lists customers for the others: the merged answer is seldom that far below one
partition's, and a clock that needs more says so (``SourceClock.wanted_since``)."""


def _guarded(task: str, body: Callable[[], Awaitable[None]], metrics: Metrics,
             closing: Callable[[], bool]) -> Callable[[], Awaitable[None]]:
    """An exception escaping a Faust timer crashes the whole worker: count and log it
    instead, and let the timer run again next period. Once the worker is ``closing`` the
    body no longer runs: Faust stops timers last, after the producer."""
    async def run() -> None:
        if closing():
            return
        try:
            await body()
        except Exception as exc:
            metrics.errors.labels(task).inc()
            log.warning("%s failed: %s (runs again next period)", task, type(exc).__name__)
            log.debug("%s failed", task, exc_info=True)
    run.__name__ = run.__qualname__ = task  # Faust names timers after their function
    return run


def _require_copartitioned(sources: frozenset[str], kinds: dict[str, str],
                           partitions: int) -> None:
    """One hop detects partition p of every source topic in one place: each must have
    ``partitions`` partitions, as the changelogs do."""
    counts = {topic: sum(s.rpartition("/")[0] == topic for s in sources) for topic in kinds}
    wrong = {topic: n for topic, n in counts.items() if n != partitions}
    if wrong:
        raise UserError(
            "runtime.keyed_sources needs every source topic to have topics.partitions "
            f"({partitions}) partitions; " + ", ".join(
                f"{topic} has {n}" for topic, n in sorted(wrong.items()))
            + ": repartition those topics, or unset runtime.keyed_sources")


@dataclass
class Partition:
    """A detect partition this worker owns: its detector (customers, deadlines, population
    statistics), the clock its ticks feed, with one hop the progress of the source
    partitions it reads itself, and the last offset read per topic. Made when adopted,
    forgotten as a whole when revoked: kept, a clock would be ahead of the events read
    again."""

    detector: Detector
    clock: SourceClock
    progress: SourceProgress
    read: dict[str, int] = field(default_factory=dict)


class Runtime:
    def __init__(self, settings: Settings, app: faust.App, metrics: Metrics,
                 sources: frozenset[str], health: Health | None = None) -> None:
        """``sources``: every source partition at start, which event time waits for."""
        self.settings, self.app, self.metrics = settings, app, metrics
        self.health = health or Health()
        rt, topics = settings.runtime, settings.topics
        self.partitions = topics.partitions
        raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes,
                               "key_serializer": "raw", "value_serializer": "raw"}
        self.kinds = source_topics(settings)
        self.keyed = rt.keyed_sources
        if self.keyed:
            _require_copartitioned(sources, self.kinds, self.partitions)
        self.sources = app.topic(*self.kinds, **raw)
        # the detect agent's own topic (created by ensure_topics): forwarded events and
        # ticks (two hops), or only ticks (one hop), read with the source topics
        self.events = app.topic(own_topic(settings), partitions=self.partitions,
                                internal=not self.keyed, **raw)
        self.events_topic = self.events.get_topic_name()
        # what the agents read; the changelogs are only written (and read on recovery)
        self.read_topics = frozenset({*self.kinds, self.events_topic})
        self.publisher = Publisher(settings, app, metrics, raw)
        # use_partitioner: states are written in batches, outside the event that changed
        # them; the producer's partitioner puts each on its customer's events partition.
        typed: dict[str, Any] = {"key_type": bytes, "value_type": bytes}  # bytes: raw codec
        self.table = app.Table(CUSTOMERS_TABLE, partitions=self.partitions,
                               use_partitioner=True, **typed)
        self.populations = app.GlobalTable(POPULATIONS_TABLE, partitions=self.partitions,
                                           use_partitioner=True, **typed)
        self.progress = SourceProgress(rt.idle_after, time.time(),
                                       settings.detection.event_time)
        self.guard = EventTimeGuard(settings.detection.event_time)
        self.source_partitions = sources
        self.owned: dict[int, Partition] = {}  # the detect partitions adopted
        self.stats = Stats()
        metrics.read_counts(self.stats)
        self.scorer = Scorer(settings.risk.doc())  # fail at start on a bad parameter file
        metrics.model.info({"version": self.scorer.version})
        metrics.calibration.declare(self.scorer.horizon_days)
        metrics.calibration.max_ece.set(settings.risk.max_ece)
        metrics.declare_topics(self.kinds, (
            topics.recall, topics.holdout, topics.dead_letter, self.events_topic,
            *(route.topic for route in rt.routes)))
        app.sensors.add(MetricsSensor(metrics))
        self._decoded: dict[int, tuple[bytes, Population]] = {}
        self._unacked: list[faust.EventT[bytes]] = []
        self._flushing = asyncio.Lock()
        self._assignment = 0  # counts revocations: a batch taken before one is never acked
        self.acker = Acker(lambda: self._assignment, put_changelog, self._batch_done)
        self._last_flush = time.monotonic()
        self._agents(raw)
        self._closing = False
        self._recovered = False  # the current assignment's tables are read (on_rebalance_complete)
        self._hook_into(app)
        self._assigned = False

    def _hook_into(self, app: faust.App) -> None:
        """The timers, and the handlers of Faust's rebalance and shutdown signals."""
        rt = self.settings.runtime
        for every, task, body in ((rt.tick_interval, "churnwatch.tick", self.tick),
                                  (rt.flush_every_seconds, "churnwatch.flush", self.flush_idle),
                                  (5.0, "churnwatch.measure", self.measure),
                                  (1.0, "churnwatch.heartbeat", self.heartbeat),
                                  (PROBE_EVERY, "churnwatch.probe", self.probe_broker)):
            app.timer(every, name=task)(
                _guarded(task, body, self.metrics, lambda: self._closing))
        app.on_partitions_revoked.connect(self.on_revoked)
        app.on_partitions_assigned.connect(self.on_assigned)
        app.on_rebalance_complete.connect(self.on_rebalance_complete)
        app.on_before_shutdown.connect(self.on_shutdown)

    def _agents(self, raw: dict[str, Any]) -> None:
        """Two hops: ingest repartitions the source topics, detect reads the events topic.
        One hop: detect reads the source topics and the ticks topic as one stream."""
        app = self.app
        app.task(self._announce)
        if self.keyed:
            app.agent(app.topic(*self.kinds, self.events_topic, **raw),
                      name="churnwatch.detect", concurrency=1)(self.detect)
        else:
            app.agent(self.sources, name="churnwatch.ingest")(self.ingest)
            app.agent(self.events, name="churnwatch.detect", concurrency=1)(self.detect)

    async def _announce(self) -> None:
        """Which path this worker runs, and for which broker, once logging is set up."""
        log.info("broker: %s", "the embedded one (Tansu), with its workarounds "
                 "(runtime.fast_group_join)" if self.settings.runtime.fast_group_join else
                 "Apache Kafka or compatible, no embedded-broker workarounds")
        if self.keyed:
            log.info("one hop: detecting straight from the source topics, which the "
                     "producers key by customer_id (runtime.keyed_sources)")
        else:
            log.info("two hops: repartitioning the source topics by customer_id through "
                     "%s (set runtime.keyed_sources when the producers key by customer_id)",
                     self.events_topic)

    # --- ingest: validate, dead-letter, repartition ----------------------------------

    async def ingest(self, stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            if self._closing:  # the consumer is stopped: nothing taken now is committed
                continue
            msg = event.message
            checked = self._checked(msg, time.time(), self.progress)
            if isinstance(checked, dict):
                await self.publisher.refuse_now(checked)
                continue
            source = f"{msg.topic}/{msg.partition}"
            await self.events.send(key=checked.customer_id.encode(), value=msg.value, headers={
                KIND_HEADER: self.kinds[msg.topic].encode(),
                SOURCE_HEADER: f"{source}@{msg.offset}".encode()})
            # only now may a tick vouch for it: it is ahead of the next tick on its way
            # (vouched for before, a rebalance could lose it, and the next owner's copy
            # came late: 2026-12-07, a two-worker start)
            self.progress.observe(source, checked.ts, checked.customer_id)

    def _checked(self, msg: Any, wall: float, *progress: SourceProgress
                 ) -> AnyEvent | dict[str, Any]:
        """A source record validated and counted: its event, or the dead letter it becomes.
        Its source partition's ``progress`` knows it was taken in; what event time it
        reached is the caller's to tell, once the event is where a tick cannot pass it."""
        source = f"{msg.topic}/{msg.partition}"
        for each in progress:
            each.touch(source, msg.offset, wall)
        kind = self.kinds[msg.topic]
        raw = msg.value or b""
        try:
            parsed = parse_event(raw, kind=kind)
        except InvalidEvent as exc:
            self.metrics.invalid.labels(msg.topic).inc()
            return self.publisher.dead_letter(str(exc), raw, msg.topic, msg.partition, msg.offset)
        why = self.guard.refuse(parsed.ts, wall=time.time())
        if why is not None:  # never let it move the clock
            self.metrics.out_of_time.labels(msg.topic).inc()
            return self.publisher.dead_letter(why, raw, msg.topic, msg.partition, msg.offset)
        if self.keyed and (why := self._misplaced(msg.key, parsed.customer_id, msg.partition)):
            self.metrics.invalid.labels(msg.topic).inc()
            return self.publisher.dead_letter(why, raw, msg.topic, msg.partition, msg.offset)
        self.metrics.events_in.labels(kind).inc()
        return parsed

    def _misplaced(self, key: bytes | None, customer: str, partition: int) -> str | None:
        """Why a record cannot be detected where it is, one hop: its customer's state and
        deadlines live on the partition Kafka's default partitioner gives its id."""
        wanted = customer.encode()
        if key != wanted:
            return "record key is not its customer_id (runtime.keyed_sources)"
        if partition_of(wanted, self.partitions) != partition:
            return ("record is not on its customer_id's partition under Kafka's default "
                    "partitioner (runtime.keyed_sources)")
        return None

    async def tick(self) -> None:
        """Tell every events partition how far event time got on our source partitions,
        and what the censuses of our detect partitions hold."""
        consumer = self.app.consumer
        sources = [tp for tp in sorted(consumer.assignment()) if tp.topic in self.kinds]
        if not sources and not self.owned:
            return
        ends: dict[str, int | None] = {}
        committed: dict[str, int | None] = {}
        fetched: dict[str, float | None] = {}
        now = time.time()
        for tp in sources:
            name = f"{tp.topic}/{tp.partition}"
            fetched[name] = polled = last_fetched(self.app, tp)
            fresh = polled is not None and now - polled <= POLL_FRESH
            ends[name] = _known(consumer.highwater(tp)) if fresh else None
            committed[name] = committed_offset(self.app, tp)
        report = self.progress.tick(ends, now, committed, fetched)
        for partition, part in self.owned.items() if self.keyed else ():
            own = [name for name in ends if name.rpartition("/")[2] == str(partition)]
            part.clock.sources(part.progress.tick(
                {n: ends[n] for n in own}, now, {n: committed[n] for n in own},
                {n: fetched[n] for n in own}), local=True)
        censuses = self._censuses()
        for part in self.owned.values():
            for partition, census in censuses.items():
                part.clock.census(partition, census)
        body = tick_body(report, censuses)
        for partition in range(self.partitions):
            await self.events.send(value=body, partition=partition,
                                   headers={TICK_HEADER: b"1"})

    def _censuses(self) -> dict[int, Census]:
        """Each detect partition's census, as the clocks of all partitions need it: its
        customers' newest times from a little before where event time stands (from
        further back if some clock asks for it to be exact), and its counts per day."""
        asked = min((p.clock.wanted_since() for p in self.owned.values()), default=math.inf)
        return {partition: Census(part.clock.settled(), part.detector.census.summary(
                    min(part.detector.census.time - CENSUS_MARGIN, asked)))
                for partition, part in self.owned.items()}

    # --- detect: event time, state, alerts ---------------------------------------------

    async def detect(self, stream: faust.StreamT[bytes]) -> None:
        async for event in cast(Stream[bytes], stream).noack().events():
            if self._closing:
                continue  # unacked: read again by the next owner
            msg = event.message
            part = self.owned.get(msg.partition) or self._adopt(msg)
            if part is None:
                continue  # not ours to take yet: read again after the seek
            self._check_contiguous(part, msg.topic, msg.partition, msg.offset)
            if msg.topic != self.events_topic:  # one hop: a source record
                self._take_source(part, msg)
            elif TICK_HEADER in (headers := dict(msg.headers or ())):
                part.clock.report(msg.value or b"{}")
            else:
                self._take_forwarded(part, msg, headers)
            detector = part.detector
            watermark = part.clock.watermark()
            if watermark > -math.inf:
                self.metrics.watermark.labels(str(msg.partition)).set(watermark)
                if alerts := detector.advance(watermark):
                    # a source record's timestamp is its producer's (often the event's time)
                    received = msg.timestamp if msg.topic == self.events_topic else time.time()
                    for alert in alerts:
                        self.publisher.alert(alert, detector.held_out(alert), received)
                if detector.responses or detector.breaches or detector.outcomes or \
                        detector.settled:
                    self._count_loop(detector)
            self._unacked.append(event)
            due = time.monotonic() - self._last_flush >= self.settings.runtime.flush_every_seconds
            if due or len(self._unacked) >= self.settings.runtime.flush_every_events:
                await self._flush()

    def _check_contiguous(self, part: Partition, topic: str, partition: int, offset: int
                          ) -> None:
        """Offsets of a partition are contiguous (no compaction or transactions here): a
        jump means records were never delivered to this agent. The embedded broker does
        that when several producers write one partition (RELIABILITY.md); Kafka does not.
        Counted and logged, so a loss is visible where it happens."""
        last = part.read.get(topic)
        if last is not None and offset > last + 1:
            self.metrics.gaps.inc(offset - last - 1)
            log.warning("%s partition %d: offsets %d to %d were never received",
                        topic, partition, last + 1, offset - 1)
        part.read[topic] = offset

    def _take_source(self, part: Partition, msg: Any) -> None:
        """One hop: a source record validated here, as the ingest agent does. Its progress
        goes to the ticks for the other partitions' clocks, and straight to this
        partition's own clock (:meth:`tick`)."""
        local = part.progress
        checked = self._checked(msg, time.time(), self.progress, local)
        if isinstance(checked, dict):
            self.publisher.refuse(checked)
            return
        source = f"{msg.topic}/{msg.partition}"
        for progress in (self.progress, local):  # taken in here: no tick can pass it
            progress.observe(source, checked.ts, checked.customer_id)
        self._take(part, checked, msg, seq=None,
                   source=(zlib.crc32(source.encode()), msg.offset))

    def _take_forwarded(self, part: Partition, msg: Any, headers: dict[str, bytes]) -> None:
        raw = msg.value or b""
        try:
            event = parse_event(raw, kind=headers[KIND_HEADER].decode())
        except (InvalidEvent, KeyError) as exc:  # only if someone else wrote to the topic
            self.publisher.refuse(self.publisher.dead_letter(
                f"unreadable repartitioned event: {exc}", raw, msg.topic, msg.partition,
                msg.offset))
            return
        origin = _source(headers)
        if origin is not None:
            part.clock.arrived(*origin)
        self._take(part, event, msg, seq=msg.offset, source=None if origin is None else (
            zlib.crc32(origin[0].encode()), origin[1]))

    def _take(self, part: Partition, event: AnyEvent, msg: Any, seq: int | None,
              source: tuple[int, int] | None) -> None:
        """``seq``: the events-topic offset (two hops); ``source``: the source partition's
        key and offset the event came from. Either tells a redelivered record."""
        raw = msg.value or b""
        detector = part.detector
        self.metrics.detected.inc()
        state = detector.states.get(event.customer_id)
        if state is not None and ((seq is not None and seq <= state.seq) or (
                source is not None and source[1] <= state.sources.get(source[0], -1))):
            self.metrics.redelivered.inc()
            # written again: with a local store, the state that holds this event may be
            # from a flush that crashed before the changelog confirmed it
            detector.touched.add(event.customer_id)
            return
        now = part.clock.event_time()
        outcome = detector.ingest(event, event_time=now)
        if outcome is Admission.DUPLICATE:
            self.metrics.duplicates.inc()
        elif outcome is Admission.LATE:
            self.metrics.late.inc()
            self.publisher.refuse(self.publisher.dead_letter(
                LATE_REASON, raw, msg.topic, msg.partition, msg.offset))
        elif outcome is Admission.AHEAD:
            self.metrics.out_of_time.labels(msg.topic).inc()
            self.publisher.refuse(self.publisher.dead_letter(
                ahead_reason(event.ts, now, detector.max_held), raw, msg.topic,
                msg.partition, msg.offset))
        state = detector.states[event.customer_id]  # every outcome leaves one
        if seq is not None:
            state.seq = seq
        if source is not None:
            state.sources[source[0]] = source[1]
        detector.touched.add(event.customer_id)

    async def flush_idle(self) -> None:
        """Flush when the stream has gone quiet, so the last events get acked too. Safe
        outside stream iteration: both tables place records with the partitioner."""
        if self._unacked and time.monotonic() - self._last_flush >= (
                self.settings.runtime.flush_every_seconds):
            await self._flush()

    async def _flush(self) -> None:
        """End the batch taken in so far and hand it to the acker (streams/acks.py), which
        acks its events once their alerts and dead letters, then the customer states they
        touched, are on the broker; the agent goes on meanwhile. First it waits for the
        batch before to be acked. An alert the broker refused stops acking for good and
        crashes the detect agent (``/livez`` fails): only a restart, which reads the
        unacked events again, can send it again."""
        async with self._flushing:  # the detect agent's and the timer's
            await self.acker.room()
            if self._closing:
                return
            # from here to the hand-over no await: the batch is whole, no item half in it
            self._last_flush = time.monotonic()
            if not self._unacked:
                return
            events, self._unacked = self._unacked, []
            self.acker.hand_over(Batch(events, self.publisher.take(), self._snapshot(),
                                       self._assignment))
            for part in self.owned.values():  # between items: see compact()
                part.detector.compact()

    def _snapshot(self) -> list[Write]:
        """The bytes of every touched state, and of each partition's population statistics
        and of the customers its clock has heard of, as they are at the end of a batch."""
        writes: list[Write] = []
        touched = 0
        for partition, part in self.owned.items():
            detector = part.detector
            writes += [(self.table, cid.encode(), detector.states.encoded(cid))
                       for cid in detector.touched]
            touched += len(detector.touched)
            detector.touched.clear()
            writes.append((self.populations, str(partition).encode(),
                           detector.population.to_bytes()))
        self.metrics.state_writes.inc(touched)
        return writes

    def _batch_done(self, seconds: float) -> None:
        self.metrics.flush_seconds.observe(seconds)
        self.metrics.customers.set(sum(len(p.detector.states) for p in self.owned.values()))
        self.metrics.decoded.set(sum(p.detector.states.live for p in self.owned.values()))

    def _adopt(self, msg: Any) -> Partition | None:
        """A partition not adopted yet, or None if it cannot be now: table
        recovery of the current assignment has not ended, or the partition is no longer
        ours. A record can reach the agent then (fetched before a rebalance and kept by
        the flow control, ``KeepQueuesOnResume``); adopting its partition would rebuild
        customers from a table half recovered, and their next states would be written
        without their history (seen once under load: a customer's last changelog state
        with 0 of its 11 orders after a takeover). The record is left unacked: the seek to
        the committed offsets that ends recovery, which comes after ``_recovered`` is set,
        reads it again; or its new owner does. (Keying this on Faust's own "completed"
        event, set a few loop turns after that seek, left records fetched in those turns
        to wait for the next rebalance: a restarted worker lost the ticks it re-read.)"""
        if not self._recovered or msg.tp not in self.app.consumer.assignment():
            self.metrics.deferred.inc()
            return None
        return self._load(msg.partition)

    async def on_rebalance_complete(self, sender: Any, /, *args: Any,
                                    signal: BaseSignalT[Any], **kwargs: Any) -> None:
        """Faust signals this once the changelogs of the current assignment are read into
        the tables, before it resumes the stream partitions and seeks them to their
        committed offsets. A recovery overtaken by a newer rebalance signals it too
        (mode's wait_first starts it before it sees the newer one): not if one is pending."""
        if not recovery_pending(self.app):
            self._recovered = True

    def _load(self, partition: int) -> Partition:
        """Adopt a partition: rebuild its customers and their deadlines from the table; a
        new clock, fed only by the ticks on that partition (order holds within a
        partition, so a tick there follows every event it vouches for)."""
        live = self.settings.runtime.live_customers
        detector = Detector(self.settings, self.scorer, stats=self.stats,
                            live_limit=None if live is None else max(1, live // self.partitions))
        detector.view_provider = self._population_view
        restored = detector.restore((key.decode(), value)
                                    for key, value in self.table.data.items()
                                    if partition_of(key, self.partitions) == partition)
        detector.refresh_view()
        detection = self.settings.detection
        own = [f"{topic}/{partition}" for topic in self.kinds] if self.keyed else []
        part = self.owned[partition] = Partition(detector, SourceClock(
            detection.allowed_lateness.total_seconds(), self.source_partitions,
            self.partitions, detection.event_time, own=own,
            idle_after=self.settings.runtime.idle_after), SourceProgress(
            self.settings.runtime.idle_after, time.time(), detection.event_time))
        log.info("partition %d: %d customers restored, event time through %s, newest "
                 "offset %d, %d events pending", partition, restored.customers,
                 rfc3339(datetime.fromtimestamp(restored.through, UTC)),
                 restored.newest_offset, restored.pending)
        return part

    def _population_view(self) -> PopulationView:
        """Statistics over all partitions: ours live, the others' last published copies."""
        parts = [p.detector.population for p in self.owned.values()]
        for key, value in self.populations.data.items():
            partition = int(key.decode())
            if partition in self.owned:
                continue
            cached = self._decoded.get(partition)
            if cached is None or cached[0] is not value:
                cached = self._decoded[partition] = (value, Population.from_bytes(value))
            parts.append(cached[1])
        return Population().merged(parts).view()

    async def on_revoked(self, sender: Any, /, *args: Any, signal: BaseSignalT[Any],
                         **kwargs: Any) -> None:
        """Forget everything not yet written: the new owner replays it from the log. That
        includes the clocks: kept, they would be ahead of the events read again. A flush
        waiting for the broker meanwhile must not ack: its states are among the forgotten,
        and the new owner would skip events whose effect was never stored."""
        self._assignment += 1
        self._recovered = False
        self.owned.clear()
        self._unacked.clear()
        self._assigned = False
        # per-partition series of partitions another worker may own now would freeze
        # at their last value and look like a stalled watermark or a stuck lag
        self.metrics.watermark.clear()
        self.metrics.lag.clear()

    async def on_assigned(self, sender: Any, /, *args: Any, signal: BaseSignalT[Any],
                          **kwargs: Any) -> None:
        self._assigned = True
        self._recovered = False  # this assignment's tables are recovered next

    async def on_shutdown(self, sender: Any, /, *args: Any, signal: BaseSignalT[Any],
                          **kwargs: Any) -> None:
        """Faust stops the consumer, sends this, flushes and stops the producer, and only
        then its agents and timers: whatever they sent after this went to a closed
        producer and crashed its buffer (``ProducerSendError: ProducerClosed``, a demo
        stopped by SIGTERM, 1 run in 2). From here nothing new is sent, and no batch is
        acked (the consumer that would commit it is gone): the next owner reads its
        events again, as after a revocation."""
        self._closing = True
        self._assignment += 1

    # --- health ------------------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Proves the event loop runs, and copies the group's state for /readyz."""
        app = self.app
        self.health.beat(crashed_agents(app.agents))
        self.health.group(
            assigned=self._assigned and not app.rebalancing,
            recovered=recovery_completed(app) and not app.in_recovery,
            partitions=sum(tp.topic in self.read_topics for tp in app.consumer.assignment()))
        self.metrics.ready.set(self.health.ready().ok)

    async def probe_broker(self) -> None:
        """Ask the broker for metadata: the consumer runs in its own thread and retries
        quietly, so its silence does not tell a dead broker from an idle topic."""
        client = producer_client(self.app)
        try:
            await asyncio.wait_for(client.fetch_all_metadata(), PROBE_EVERY)
        except Exception as exc:
            self.health.broker(False, f"no answer to a metadata request ({type(exc).__name__})")
        else:
            self.health.broker(True, "answered a metadata request")

    # --- the loop's figures ---------------------------------------------------------------

    def _count_loop(self, detector: Detector) -> None:
        """What the detector learnt about follow-ups, outcomes and risks settled, into the
        metrics (no customer id in any of it). Counted when found: after a crash, the items replayed
        from the log may count again, as counters of an at-least-once stream do."""
        m = self.metrics
        for response in detector.responses:
            m.response.labels(TIERS[response.tier]).observe(response.seconds)
        for rank in detector.breaches:
            m.overdue.labels(TIERS[rank]).inc()
        for closed in detector.outcomes:
            labels = (SIGNAL_NAMES[closed.signal], TIERS[closed.tier],
                      "holdout" if closed.held_out else "treated")
            m.outcomes.labels(*labels, str(closed.won).lower()).inc()
            m.outcome_revenue.labels(*labels).inc(closed.revenue)
        for settled in detector.settled:
            m.calibration.count(settled)
        detector.responses.clear()
        detector.breaches.clear()
        detector.outcomes.clear()
        detector.settled.clear()

    async def measure(self) -> None:
        """Partitions and consumer lag (high-water mark minus position) of the topics the
        agents read (the changelogs, which this worker writes, are left out)."""
        consumer = self.app.consumer
        assigned = [tp for tp in consumer.assignment() if tp.topic in self.read_topics]
        for topic in self.read_topics:
            self.metrics.assigned.labels(topic).set(sum(tp.topic == topic for tp in assigned))
        for tp in assigned:
            position = _known(await consumer.position(tp))
            end = _known(consumer.highwater(tp))
            if position is not None and end is not None:
                self.metrics.lag.labels(tp.topic, str(tp.partition)).set(max(0, end - position))
