"""A Faust agent keeping count and sum per key in a Table (memory store, changelog topic).

    python faust_table.py BROKER TOPIC[,TOPIC...] N DATA_DIR PARTITIONS [--batched]

``--batched``: the producer batching churnwatch uses in production (linger 20 ms, 256 KiB
batches); without it, Faust's defaults. Prints DONE <seconds> from the first event to the
N-th. Runs in churnwatch's own environment, with the Worker it uses."""

from __future__ import annotations

import sys
import time

import faust
import orjson
from faust_app import bench_app  # beside this script

from churnwatch.streams.worker import faust_worker

app, run = bench_app("table", sys.argv)
source = app.topic(*run.topics, key_type=bytes, value_type=bytes, key_serializer="raw",
                   value_serializer="raw")
table = app.Table("sums", key_type=bytes, value_type=bytes, partitions=run.partitions)
seen = {"n": 0, "t0": 0.0}


@app.agent(source)
async def count(stream: faust.StreamT[bytes]) -> None:
    async for event in stream.events():
        key = event.key
        n, total = orjson.loads(table.get(key, b"[0, 0.0]"))
        amount = orjson.loads(event.value).get("amount") or 0.0
        table[key] = orjson.dumps([n + 1, total + amount])
        if seen["n"] == 0:
            seen["t0"] = time.monotonic()
        seen["n"] += 1
        if seen["n"] == run.expected:
            print(f"DONE {time.monotonic() - seen['t0']:.3f}", flush=True)


if __name__ == "__main__":
    faust_worker(app, "warning").execute_from_commandline()
