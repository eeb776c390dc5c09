"""Every use of Faust's and aiokafka's private parts, in one place: an upgrade of either
(pinned together in pyproject.toml: faust-streaming 0.15.3, aiokafka 0.14.0) is this file
to read.

The classes change what Faust does, each with what it fixes and the measurement that
found it; the functions read what Faust and aiokafka keep to themselves. The rest of the
worker uses only their public faces.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Mapping
from typing import Any, ClassVar, cast

import faust
import faust.stores
from faust.stores.rocksdb import Store as RocksDBStore
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, AgentT, ConsumerT, ProducerT
from faust.types.tuples import FutureMessage
from mode.services import WaitResults
from mode.utils.queues import FlowControlEvent

from churnwatch.streams.store import ROCKSDB_SCHEME, partition_of


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



class KeyPartitionedRocksDB(RocksDBStore):
    """Faust's RocksDB store, one database per changelog partition as before, with each
    key in the database of the partition its changelog record is sent to."""

    def _set(self, key: bytes, value: bytes | None) -> None:
        partition = partition_of(key, self.table.partitions or self.app.conf.topic_partitions)
        self._key_index[key] = partition
        self._db_for_partition(partition).put(key, value)


faust.stores.STORES.aliases[ROCKSDB_SCHEME] = (  # before any app makes its tables
    f"{__name__}:{KeyPartitionedRocksDB.__name__}")


def put_changelog(table: Any, key: bytes, value: bytes) -> FutureMessage:
    """``table[key] = value`` as setting a key does, but through the table's own
    changelog send, which returns the record's delivery future. The partition is the
    producer partitioner's choice, computed here: left to Faust (``use_partitioner``), it
    asks aiokafka's producer synchronously, which knows a topic's partitions only once a
    send to it has waited for its metadata. On Apache Kafka the first flush after a start
    crashed the detect agent that way (``partitions_for_topic`` None, 1 run in 3)."""
    table.data[key] = value
    partition = partition_of(key, table.partitions)
    return cast(FutureMessage, table.send_changelog(partition, key, value))


def last_fetched(app: faust.App, tp: TP) -> float | None:
    """When (epoch seconds) the consumer last had a fetch response for ``tp`` (aiokafka's
    ``last_poll_timestamp``, behind Faust's consumer thread); None if never or unknown."""
    try:
        aio = cast(Any, app.consumer)._thread._ensure_consumer()
        polled = aio.last_poll_timestamp(tp)
    except Exception:  # not started, or no longer assigned
        return None
    return None if polled is None else float(polled) / 1000


def committed_offset(app: faust.App, tp: TP) -> int | None:
    """The committed offset Faust resumed ``tp`` from (its consumer records it)."""
    offset = getattr(app.consumer, "_committed_offset", {}).get(tp)
    return offset if isinstance(offset, int) and offset >= 0 else None


def recovery_pending(app: faust.App) -> bool:
    """A table recovery has been started and not yet begun reading (a newer rebalance)."""
    return bool(_recovery(app).signal_recovery_start.is_set())


def recovery_completed(app: faust.App) -> bool:
    """The tables' recovery of the current assignment has ended."""
    return bool(_recovery(app).completed.is_set())


def _recovery(app: faust.App) -> Any:
    return cast(Any, app.tables).recovery  # TableManager's, not in its protocol


def crashed_agents(agents: Mapping[str, AgentT[Any]]) -> list[str]:
    """Names of the agents with a crashed actor."""
    return sorted({agent.name for agent in agents.values()
                   for actor in cast(Any, agent)._actors if actor.crashed})


def producer_client(app: faust.App) -> Any:
    """aiokafka's client behind Faust's producer (metadata requests to probe the broker)."""
    return cast(Any, app.producer)._ensure_producer().client
