"""The RocksDB store files each customer state under the partition its changelog record
goes to, even when written outside any event (the worker's timer flush)."""

from __future__ import annotations

from pathlib import Path

from churnwatch.config import Settings
from churnwatch.streams.app import create_app
from churnwatch.streams.metrics import Metrics
from churnwatch.streams.runtime import Runtime
from churnwatch.streams.store import KeyPartitionedRocksDB, partition_of


def test_a_state_written_outside_an_event_lands_in_its_changelog_partitions_db(
        tmp_path: Path) -> None:
    settings = Settings(kafka={"brokers": "127.0.0.1:9"},
                        runtime={"data_dir": tmp_path, "table_store": "rocksdb"})
    runtime = Runtime(settings, create_app(settings), Metrics(), frozenset())
    store = runtime.table.data
    assert isinstance(store, KeyPartitionedRocksDB)
    keys = [f"c{n}".encode() for n in range(20)]
    for key in keys:  # what the worker's _put does before sending the changelog record
        store[key] = b"state of " + key
    for key in keys:
        partition = partition_of(key, settings.topics.partitions)
        assert store._db_for_partition(partition).get(key) == b"state of " + key
    assert {partition_of(k, settings.topics.partitions) for k in keys} == set(store._dbs)
