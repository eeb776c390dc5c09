"""Prototype of issue 22's worker: one hop and batches, with Faust still doing group
membership, the conductor, table changelogs and the commit of acked offsets.

    python bench/batch_worker_prototype.py BROKER TOPIC[,TOPIC...] N DATA_DIR PARTITIONS
                                           [--batched] [--noop]

No agent and no stream: Faust's conductor hands each source record to a channel whose
"queue" is a plain list (``Batch``; the conductor only calls ``full`` and
``put_nowait_enhanced``), and one task takes the whole list at a time. For each batch it
parses every record, runs it through a ``Detector`` per source partition (the producers
key by customer, so a partition holds whole customers; event time is merged across the
partition's sources, ``PartitionClock``: no ticks), publishes the alerts, writes each
touched state once to the table's changelog, waits for the broker to confirm all of it,
then acks the batch. ``--noop`` only acks: the floor of this delivery path.
``--batched``: production producer batching. Prints DONE <seconds> <alerts> from the
first record to the N-th distinct one.

Not the worker: no validation dead letters, no event-time guard, no cross-partition
clock, no metrics, no pipelining (the task waits for each batch's confirmation), nothing
done on revocation. Run by bench/stream_bench.py beside the no-op agent.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from typing import Any

import faust
from faust.types import TP
from peers.faust_app import bench_app

from churnwatch.engine import Detector, Scorer
from churnwatch.models.events import InvalidEvent, parse_event
from churnwatch.settings import Settings
from churnwatch.streams import cloudevents
from churnwatch.streams.worker import faust_worker

app, run = bench_app("prototype", sys.argv)
partitions = run.partitions or 1
settings = Settings.build()
kinds = {settings.topics.orders: "order", settings.topics.engagement: "engagement",
         settings.topics.complaints: "complaint"}


class Batch:
    """What Faust's conductor uses of a channel's queue."""

    LIMIT = 20_000  # beyond it the conductor waits in ``put`` (back-pressure)

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.ready = asyncio.Event()

    def full(self) -> bool:
        return len(self.items) >= self.LIMIT

    def put_nowait_enhanced(self, value: Any, **_pressure_callbacks: Any) -> None:
        self.items.append(value)
        self.ready.set()

    async def put(self, value: Any) -> None:
        while self.full():
            await asyncio.sleep(0.001)
        self.put_nowait_enhanced(value)


class BatchTopic(faust.Topic):
    batch = Batch()

    @property
    def queue(self) -> Any:
        return self.batch


raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
       "value_serializer": "raw"}
source = BatchTopic(app, topics=run.topics, **raw)
# declared in ``drain``: a cluster may not create topics on first use
recall = app.topic(f"{app.conf.id}-recall", partitions=partitions, internal=True, **raw)
table = app.Table("customers", partitions=partitions, use_partitioner=True,
                  key_type=bytes, value_type=bytes)
app.topics.add(source)  # subscribed from the start, like an agent's topic
scorer = Scorer(settings.risk.doc())
progress = {"n": 0, "t0": 0.0, "alerts": 0}
read: dict[Any, int] = {}  # newest offset taken per source partition: redeliveries aside


class PartitionClock:
    """Event time of one partition, merged across its sources: the slowest source that
    is not caught up (the worker's rule without ticks, since each partition's sources are
    all read by the process that detects it), never past the newest time a quorum of its
    customers has reached (``Detector.quorum``)."""

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.detector = Detector(settings, scorer)
        self.newest: dict[str, float] = {}  # per source topic
        self.next_offset: dict[str, int] = {}

    def observe(self, topic: str, offset: int, customer: str, ts: float) -> float:
        self.newest[topic] = max(self.newest.get(topic, ts), ts)
        self.next_offset[topic] = offset + 1
        self.detector.quorum.observe(customer, ts)
        ends = {t: app.consumer.highwater(TP(t, self.partition)) or 0 for t in kinds}
        if any(t not in self.newest and end > 0 for t, end in ends.items()):
            return -math.inf  # a source with records not read yet may hold old events
        behind = [t for topic, t in self.newest.items() if self.next_offset[topic] < ends[topic]]
        slowest = min(behind) if behind else max(self.newest.values())
        return min(slowest, self.detector.quorum.end())


clocks = {p: PartitionClock(p) for p in range(partitions)}


async def detect(items: list[Any]) -> None:
    sent = []
    lateness = settings.detection.allowed_lateness.total_seconds()
    for event in items:
        msg = event.message
        try:
            parsed = parse_event(msg.value, kind=kinds[msg.topic])
        except InvalidEvent:
            continue
        clock = clocks[msg.partition]
        now = clock.observe(msg.topic, msg.offset, parsed.customer_id, parsed.ts)
        detector = clock.detector
        detector.ingest(parsed, event_time=now)
        for alert in detector.advance(now - lateness):
            key, body, headers = cloudevents.record(alert, "structured")
            sent.append(recall.send_soon(key=key, value=body, headers=headers))
            progress["alerts"] += 1
    for detector in (clock.detector for clock in clocks.values()):
        for cid in detector.touched:
            table.data[cid.encode()] = value = detector.states.encoded(cid)
            sent.append(table.send_changelog(None, cid.encode(), value))
        detector.touched.clear()
    if sent:
        await asyncio.wait(sent)


@app.task
async def drain() -> None:
    batch = source.batch
    await recall.declare()
    while True:
        await batch.ready.wait()
        batch.ready.clear()
        items, batch.items = batch.items, []
        if not items:
            continue
        if progress["n"] == 0:
            progress["t0"] = time.monotonic()
        if "--noop" not in run.flags:
            await detect(items)
        for event in items:
            event.ack()
            tp, offset = event.message.tp, event.message.offset
            if offset > read.get(tp, -1):
                read[tp] = offset
                progress["n"] += 1
        if progress["n"] >= run.expected:
            print(f"DONE {time.monotonic() - progress['t0']:.3f} {progress['alerts']}",
                  flush=True)


if __name__ == "__main__":
    faust_worker(app, "warning").execute_from_commandline()
