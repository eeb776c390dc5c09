"""Probe of the embedded broker: does a consumer tailing a partition see every record
while several producers write to that partition at once?

    python bench/broker_tail_race.py [--producers 3] [--records 5000]

Starts Tansu, runs the producers (kafka-python, one record per batch) against one
partition while a consumer tails it, then reads the partition again from the start and
prints the offsets the tailing consumer never received. Apache Kafka never skips one:
offsets are handed out and made visible in order. Tansu 0.6.0 (memory storage) raises a
partition's high watermark before it stores the batch (tansu-storage ``dynostore.rs``,
``produce``), so a fetch racing a slower writer can return a later batch and move the
consumer past an earlier one, which a second read from the start finds. See
RELIABILITY.md for what this means for churnwatch's tests.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from churnwatch.tools.broker import running_broker

TOPIC = TopicPartition("probe", 0)


def read(url: str, into: list[int], until: threading.Event | None = None) -> None:
    """Append the partition's offsets from the start to ``into``: until ``until`` is set,
    or (without it) until the consumer sees nothing new for 2 s."""
    consumer = KafkaConsumer(bootstrap_servers=url, enable_auto_commit=False,
                             fetch_max_wait_ms=10)
    consumer.assign([TOPIC])
    consumer.seek(TOPIC, 0)
    quiet_since = time.monotonic()
    while not until.is_set() if until else time.monotonic() - quiet_since < 2:
        for records in consumer.poll(50).values():
            into.extend(r.offset for r in records)
            quiet_since = time.monotonic()
    consumer.close()


def write(url: str, name: int, records: int) -> None:
    producer = KafkaProducer(bootstrap_servers=url, linger_ms=0, batch_size=1)
    for n in range(records):
        producer.send(TOPIC.topic, value=b"%d-%d" % (name, n), partition=TOPIC.partition)
        if n % 50 == 0:
            time.sleep(0.001)  # let the other producers in: writes interleave, as live
    producer.flush()
    producer.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--producers", type=int, default=3)
    ap.add_argument("--records", type=int, default=5000, help="per producer")
    args = ap.parse_args()
    total = args.producers * args.records
    with tempfile.TemporaryDirectory() as tmp, running_broker(home=Path(tmp)) as b:
        KafkaAdminClient(bootstrap_servers=b.url).create_topics([NewTopic(TOPIC.topic, 1, 1)])
        stop, tailed, again = threading.Event(), list[int](), list[int]()
        tail = threading.Thread(target=read, args=(b.url, tailed, stop))
        tail.start()
        writers = [threading.Thread(target=write, args=(b.url, n, args.records))
                   for n in range(args.producers)]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        deadline = time.monotonic() + 10  # let the tail catch up with what was written
        while len(tailed) < total and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        tail.join()
        read(b.url, again)
    skipped = sorted(set(again) - set(tailed))
    print(f"{args.producers} producers, {total:,} records: the tailing consumer got "
          f"{len(set(tailed)):,}; read again from the start: {len(set(again)):,}; "
          f"skipped by the tail: {len(skipped)} {skipped[:10]}")


if __name__ == "__main__":
    main()
