"""The Faust application and its Kafka settings, all from :class:`churnwatch.settings.Settings`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Mapping
from typing import Any, ClassVar, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, ConsumerT, ProducerT
from mode.services import WaitResults
from mode.utils.queues import FlowControlEvent

from churnwatch.settings import Settings
from churnwatch.streams.admin import ssl_context
from churnwatch.streams.store import store_url


def create_app(settings: Settings) -> faust.App:
    k, rt = settings.kafka, settings.runtime
    if not k.brokers:
        raise ValueError("no broker configured: set CHURNWATCH_KAFKA__BROKERS")
    options: dict[str, Any] = {
        "broker": [f"kafka://{b.strip()}" for b in k.brokers.split(",")],
        # Faust reads env vars that override constructor arguments (a Kubernetes service
        # named `web` crashes it): every setting comes from our Settings, none from env.
        "env": {},
        "store": store_url(settings),
        "datadir": str(rt.data_dir / f"{rt.app_id}-data"),
        "web_enabled": False,
        "topic_partitions": settings.topics.partitions,
        "topic_replication_factor": settings.topics.replication_factor,
        "consumer_auto_offset_reset": "earliest",
        # one changelog send per record costs the broker ~100 us; batch them
        "producer_linger": 0.02,
        "producer_max_batch_size": 262_144,
        # Faust would wait, at shutdown and rebalance, for every in-flight event to be
        # acked; ours are acked by a flush that has stopped by then, so SIGTERM hung.
        # Unacked events are redelivered to the next owner, and the detector's state
        # makes redelivery harmless (offsets and event ids per customer).
        "stream_wait_empty": False,
    }
    credentials = _credentials(settings)
    if credentials is not None:
        options["broker_credentials"] = credentials
    if rt.fast_group_join:
        # The embedded broker makes a group join wait session_timeout / 2: 30 s with Faust
        # defaults, ~1 s with these. Production Kafka wants the usual values.
        options |= {"broker_session_timeout": 2.0, "broker_heartbeat_interval": 0.5,
                    "broker_rebalance_timeout": 2.0}
        # Tansu answers ListOffsets "latest" with the first offset of the partition's last
        # batch + 1 (measured: 1 for 100 records in one batch). Faust's table recovery
        # reads each changelog up to that answer, so a restart can miss the tail of the
        # last batch and resume from stale customer states. One record per batch makes
        # the answer exact (measured: 100 for 100).
        options["producer_max_batch_size"] = 1
    app = faust.App(rt.app_id, **options)
    # before the consumer and the producer
    app.transport = ConsumerTransport(app.conf.broker_consumer, app,
                                      idempotent=k.idempotent is not False)
    app.flow_control = KeepQueuesOnResume(loop=app.loop)  # before any stream exists
    # Faust logs a warning for every buffered send past 100 (3 % of worker time under
    # load, measured with py-spy); alert bursts and batched state writes exceed it.
    app.producer.buffer.max_messages = 100_000
    return app


class KeepQueuesOnResume(FlowControlEvent):
    """Faust's flow control, except that resuming keeps what the streams have queued.

    After a rebalance Faust resumes the stream partitions, seeks them to their committed
    offsets and only then resumes the flow, which (mode's ``FlowControlEvent.resume``)
    clears every stream's queue. Records fetched in between are dropped while the
    consumer's position and Faust's read offset have moved past them, so the agents never
    see them (faust-streaming 0.15.3: a restarted worker took in 64 of 82 new messages
    and reported no lag). Table recovery resumes the flow the same way after resuming
    the changelog partitions, and the tables' changelog buffer is such a queue too (a
    record dropped there would restore a customer from an older state; reasoned from
    the code, not seen). Stale records are what the clearing is for, and Faust already
    clears on revocation; what is kept here at most arrives twice, which the detector's
    state makes harmless."""

    def resume(self) -> None:
        self._suspend.clear()
        self._resume.set()


class RewindingConsumer(faust_aiokafka.Consumer):
    """Faust's consumer, except that seeking to the committed offsets also rewinds a stream
    partition with no committed offset to its beginning.

    Faust seeks every assigned partition to its committed offset once tables are recovered
    (and whenever records arrive while the flow is stopped), because records fetched
    meanwhile are dropped while the consumer's position has moved past them. aiokafka's
    ``seek_to_committed`` skips a partition without a commit (or committed at 0), so there
    the position stays past the dropped records. Measured (faust-streaming 0.15.3, the
    takeover test, 2 of ~20 runs under load): a worker joining a fresh group fetched 612
    records of a source partition during its recovery, dropped them, and never took a
    record of its partitions, before or after it took over the others. The changelog
    partitions are left to the recovery that reads them."""

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        changelogs = self.app.tables.changelog_topics
        fresh = [tp for tp, offset in committed.items()
                 if not offset and tp.topic not in changelogs]
        if fresh:
            await self._thread.seek_to_beginning(*fresh)
        return committed


class DirectHandoverConsumer(RewindingConsumer):
    """Faust's consumer, except that a record the conductor takes at once is handed over
    without four tasks.

    Faust's fetcher hands every record to the conductor through ``wait_first(on_message,
    flow suspended)``, which wraps that and the service's stopped and crashed events in
    four tasks and an ``asyncio.wait``: 15 % of a one-hop worker's main thread (py-spy,
    faust-streaming 0.15.3). The conductor mostly finishes without suspending (the
    stream's queue has room), so the record is first handed over directly; only when the
    hand-over has to wait (a full queue) does it race the other events as Faust does."""

    async def wait_first(self, *coros: Any, timeout: Any = None) -> WaitResults:
        first = coros[0] if coros else None
        if not asyncio.iscoroutine(first) or self._stopped.is_set() or self._crashed.is_set():
            return await super().wait_first(*coros, timeout=timeout)
        try:
            waiting_on = first.send(None)
        except BaseException as ended:
            for other in coros[1:]:
                if asyncio.iscoroutine(other):
                    other.close()  # never started: nothing to clean up
            if isinstance(ended, StopIteration):
                return WaitResults([first], [ended.value], False)
            raise
        return await super().wait_first(_resumed(first, waiting_on), *coros[1:],
                                        timeout=timeout)


async def _resumed(coro: Coroutine[Any, Any, Any], waiting_on: Any) -> Any:
    """Run to its end, as a task would, a coroutine that has suspended once on
    ``waiting_on`` (a future, or None for a bare yield); cancelled, it is cancelled at the
    await it is suspended in, so its cleanup runs."""
    try:
        while True:
            if waiting_on is None:
                await asyncio.sleep(0)
            else:
                waiting_on._asyncio_future_blocking = False
                await asyncio.wait([waiting_on])
            waiting_on = coro.send(None)
    except StopIteration as finished:
        return finished.value
    except asyncio.CancelledError:
        if waiting_on is not None:
            waiting_on.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopIteration):
            coro.throw(asyncio.CancelledError())
        raise
    finally:
        coro.close()


class IdempotentProducer(faust_aiokafka.Producer):
    """Faust's producer, idempotent outside transactions too when the settings say so.

    Faust turns idempotence on only for its exactly-once transactions. Without it, a send
    retried after a lost response (a leader failover, a timeout) can be stored twice:
    harmless for states, but a second copy of an alert on the recall topic (readers dedupe
    by its id, still). With it, the broker drops the retry."""

    def _settings_extra(self) -> Mapping[str, Any]:
        if cast(ConsumerTransport, self.transport).idempotent:
            return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}
        return super()._settings_extra()


class ConsumerTransport(faust_aiokafka.Transport):
    """Faust's aiokafka transport with the consumer and the producer above."""

    Consumer: ClassVar[type[ConsumerT]] = DirectHandoverConsumer
    Producer: ClassVar[type[ProducerT]] = IdempotentProducer

    def __init__(self, url: Any, app: faust.App, *, idempotent: bool) -> None:
        super().__init__(url, app)
        self.idempotent = idempotent


def _credentials(settings: Settings) -> Any:
    k = settings.kafka
    if k.security_protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings) if k.security_protocol.endswith("SSL") else None
    if k.security_protocol == "SSL":
        return faust.SSLCredentials(context)
    return faust.SASLCredentials(
        username=k.sasl_username,
        password=k.sasl_password.get_secret_value() if k.sasl_password else None,
        ssl_context=context,
        mechanism=k.sasl_mechanism or "PLAIN",
    )
