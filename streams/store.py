"""Where a table key lives: its partition, and the local store that keeps it.

The worker writes customer states in batches, outside the event that changed them, so
its tables place each record with the producer's partitioner (``use_partitioner``).
Faust's RocksDB store files a write under the partition of the *current event* instead
(and fails outside one), which would put a state in one partition's database and its
changelog record in another's; recovery and the next owner would then disagree. The
store named by ``ROCKSDB_SCHEME`` (``KeyPartitionedRocksDB`` in internals.py) files every
key under the partition its changelog record goes to.
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2

from churnwatch.settings import Settings

ROCKSDB_SCHEME = "churnwatch-rocksdb"


def partition_of(key: bytes, partitions: int) -> int:
    """The producer's default partitioner (murmur2, as the Java client): the partition a
    customer's events and its changelog records both land on."""
    partition: int = (murmur2(key) & 0x7FFFFFFF) % partitions
    return partition


def store_url(settings: Settings) -> str:
    """Faust's ``store`` setting for ``runtime.table_store``."""
    return "memory://" if settings.runtime.table_store == "memory" else f"{ROCKSDB_SCHEME}://"
