"""The Faust app of a benchmark process, from its command line (churnwatch's environment):

    BROKER TOPIC[,TOPIC...] N DATA_DIR [PARTITIONS] [--batched]

Fast group joins (a 6 s session: Apache Kafka refuses less, group.min.session.timeout.ms);
``--batched``: the producer batching churnwatch uses in production (linger 20 ms, 256 KiB
batches), else Faust's defaults."""

from __future__ import annotations

import time
from dataclasses import dataclass

import faust


@dataclass(frozen=True)
class Run:
    topics: list[str]
    expected: int  # records to take before printing DONE
    partitions: int | None
    flags: frozenset[str]


def bench_app(name: str, argv: list[str]) -> tuple[faust.App, Run]:
    args = [a for a in argv[1:] if not a.startswith("--")]
    broker, topics, expected, datadir = args[0], args[1].split(","), int(args[2]), args[3]
    partitions = int(args[4]) if len(args) > 4 else None
    flags = frozenset(a for a in argv[1:] if a.startswith("--"))
    options: dict[str, object] = {}
    if "--batched" in flags:
        options |= {"producer_linger": 0.02, "producer_max_batch_size": 262_144}
    if partitions is not None:
        options["topic_partitions"] = partitions
    app = faust.App(f"{name}-{time.time_ns()}", broker=f"kafka://{broker}", env={},
                    datadir=datadir, web_enabled=False, store="memory://",
                    consumer_auto_offset_reset="earliest", broker_session_timeout=6.0,
                    broker_heartbeat_interval=0.5, broker_rebalance_timeout=2.0, **options)
    return app, Run(topics, expected, partitions, flags)
