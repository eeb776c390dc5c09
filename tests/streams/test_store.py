"""The RocksDB store files each customer state under the partition its changelog record
goes to, even when written outside any event (the worker's timer flush)."""

from __future__ import annotations

from pathlib import Path

from churnwatch.settings import Settings
from churnwatch.streams.app import create_app
from churnwatch.streams.internals import KeyPartitionedRocksDB, put_changelog
from churnwatch.streams.metrics import Metrics
from churnwatch.streams.runtime import Runtime
from churnwatch.streams.store import partition_of


def test_a_state_written_outside_an_event_lands_in_its_changelog_partitions_db(
        tmp_path: Path) -> None:
    settings = Settings(kafka={"brokers": "127.0.0.1:9"},
                        runtime={"data_dir": tmp_path, "table_store": "rocksdb"})
    runtime = Runtime(settings, create_app(settings), Metrics(), frozenset())
    store = runtime.table.data
    assert isinstance(store, KeyPartitionedRocksDB)
    keys = [f"c{n}".encode() for n in range(20)]
    for key in keys:  # what put_changelog does before sending the changelog record
        store[key] = b"state of " + key
    for key in keys:
        partition = partition_of(key, settings.topics.partitions)
        assert store._db_for_partition(partition).get(key) == b"state of " + key
    assert {partition_of(k, settings.topics.partitions) for k in keys} == set(store._dbs)


class Table:
    """A table as ``put_changelog`` uses it, recording the partition of each changelog send."""

    partitions = 4

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.sent: list[tuple[int | None, bytes]] = []

    def send_changelog(self, partition: int | None, key: bytes, value: bytes) -> None:
        self.sent.append((partition, key))


def test_a_state_write_names_its_partition_instead_of_asking_the_producer() -> None:
    """The producer's partitioner is asked nothing (its metadata may not know the
    changelog topic yet); the partition is the one it would have chosen."""
    table = Table()
    keys = [f"c{n}".encode() for n in range(20)]
    for key in keys:
        put_changelog(table, key, b"state")
    assert table.sent == [(partition_of(key, 4), key) for key in keys]
    assert table.data == dict.fromkeys(keys, b"state")
