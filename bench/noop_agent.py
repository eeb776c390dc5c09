"""A Faust app whose agent does nothing but count: the floor a Faust worker costs.

Run by bench/stream_bench.py as a subprocess (broker, topics, N, data directory); prints
DONE <seconds> after N events.
"""

from __future__ import annotations

import sys
import time

import faust
from peers.faust_app import bench_app

from churnwatch.streams.worker import faust_worker

app, run = bench_app("noop", sys.argv)
source = app.topic(*run.topics, key_type=bytes, value_type=bytes, key_serializer="raw",
                   value_serializer="raw")
state = {"n": 0, "t0": 0.0}


@app.agent(source)
async def count(stream: faust.StreamT[bytes]) -> None:
    async for _ in stream:
        if state["n"] == 0:
            state["t0"] = time.monotonic()
        state["n"] += 1
        if state["n"] == run.expected:
            print(f"DONE {time.monotonic() - state['t0']:.3f}", flush=True)


if __name__ == "__main__":  # without the spinner's debug records, as the worker runs
    faust_worker(app, "warning").execute_from_commandline()
