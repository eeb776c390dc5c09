"""Where a table key lives: its partition, and the local store that keeps it.

The worker writes customer states in batches, outside the event that changed them, so
its tables place each record with the producer's partitioner (``use_partitioner``).
Faust's RocksDB store files a write under the partition of the *current event* instead
(and fails outside one), which would put a state in one partition's database and its
changelog record in another's; recovery and the next owner would then disagree. The
store here files every key under the partition its changelog record goes to.
"""

from __future__ import annotations

import faust.stores
from aiokafka.partitioner import murmur2
from faust.stores.rocksdb import Store as RocksDBStore

from churnwatch.settings import Settings

ROCKSDB_SCHEME = "churnwatch-rocksdb"


def partition_of(key: bytes, partitions: int) -> int:
    """The producer's default partitioner (murmur2, as the Java client): the partition a
    customer's events and its changelog records both land on."""
    partition: int = (murmur2(key) & 0x7FFFFFFF) % partitions
    return partition


class KeyPartitionedRocksDB(RocksDBStore):
    """Faust's RocksDB store, one database per changelog partition as before, with each
    key in the database of the partition its changelog record is sent to."""

    def _set(self, key: bytes, value: bytes | None) -> None:
        partition = partition_of(key, self.table.partitions or self.app.conf.topic_partitions)
        self._key_index[key] = partition
        self._db_for_partition(partition).put(key, value)


faust.stores.STORES.aliases[ROCKSDB_SCHEME] = (
    f"{__name__}:{KeyPartitionedRocksDB.__name__}")


def store_url(settings: Settings) -> str:
    """Faust's ``store`` setting for ``runtime.table_store``."""
    return "memory://" if settings.runtime.table_store == "memory" else f"{ROCKSDB_SCHEME}://"
