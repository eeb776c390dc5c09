"""Restart recovery of a worker holding many customers, with each table store.

    python bench/recovery.py [--customers 1000000]

Writes ``--customers`` realistic customer states (from a replayed one-year log, as
bench/state_memory.py) straight into the customers changelog of a fresh embedded broker,
then times worker starts until the worker reports every customer restored
(``churnwatch_customers``): with ``table_store=memory`` (every start reads the whole
changelog), and with ``rocksdb`` twice, the first start on an empty data directory and a
restart that finds the states on disk. The time runs from process start, so it includes
the interpreter, the group join and the decode of every state into the detector.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from state_memory import rss_bytes, template_states
from stream_bench import metric

from churnwatch.settings import Settings
from churnwatch.streams.admin import client_options, ensure_topics
from churnwatch.streams.store import partition_of
from churnwatch.tools.broker import free_port, running_broker

ROOT = Path(__file__).parents[1]


def fill_changelog(settings: Settings, customers: int) -> None:
    """Big batches for speed, then one record per partition in a batch of its own: the
    embedded broker answers "end of partition" with the last batch's first offset + 1,
    and table recovery reads up to that answer."""
    topic = f"{settings.runtime.app_id}-customers-changelog"
    partitions = settings.topics.partitions
    admin = KafkaAdminClient(**client_options(settings))
    admin.create_topics([NewTopic(topic, partitions, 1)])
    admin.close()
    templates = template_states()
    producer = KafkaProducer(**client_options(settings), linger_ms=20, batch_size=262_144)
    last: dict[int, tuple[bytes, bytes]] = {}
    for n in range(customers):
        key, value = f"c{n:09d}".encode(), templates[n % len(templates)]
        partition = partition_of(key, partitions)
        producer.send(topic, key=key, value=value, partition=partition)
        last[partition] = (key, value)
    producer.flush()
    for partition, (key, value) in last.items():  # the same state again, alone
        producer.send(topic, key=key, value=value, partition=partition)
        producer.flush()
    producer.close()


def time_start(store: str, customers: int, data: Path) -> tuple[float, float]:
    """Seconds from process start to every customer restored, and the worker's RSS (MiB)
    then; the worker is stopped with SIGTERM afterwards."""
    port = free_port()
    began = time.monotonic()
    worker = subprocess.Popen(
        [sys.executable, "-m", "churnwatch.cli", "worker", "--loglevel", "warning"],
        env={**os.environ, "CHURNWATCH_RUNTIME__METRICS_PORT": str(port),
             "CHURNWATCH_RUNTIME__TABLE_STORE": store,
             "CHURNWATCH_RUNTIME__DATA_DIR": str(data)},
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while metric(port, "churnwatch_customers") < customers:
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited with {worker.returncode}")
            time.sleep(0.5)
        seconds = time.monotonic() - began
        rss = metric(port, "process_resident_memory_bytes") / 2**20
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=300)
    return seconds, rss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.customers
    with tempfile.TemporaryDirectory() as name, running_broker(home=Path(name)) as b:
        tmp = Path(name)
        os.environ.update({"CHURNWATCH_KAFKA__BROKERS": b.url,
                           "CHURNWATCH_RUNTIME__FAST_GROUP_JOIN": "true"})
        settings = Settings()
        ensure_topics(settings)
        began = time.monotonic()
        fill_changelog(settings, n)
        print(f"{n:,} customer states in the changelog in {time.monotonic() - began:.0f} s "
              f"(bench process RSS {rss_bytes() / 2**20:,.0f} MiB)", flush=True)
        for label, store, data in (("memory", "memory", tmp / "m"),
                                   ("rocksdb, empty data directory", "rocksdb", tmp / "r"),
                                   ("rocksdb, restart with the states on disk", "rocksdb",
                                    tmp / "r")):
            data.mkdir(exist_ok=True)
            seconds, rss = time_start(store, n, data)
            print(f"{label}: every customer restored {seconds:.1f} s after start, worker "
                  f"RSS {rss:,.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
