"""Memory per customer and the CPU part of recovery, for a worker holding many customers.

    python bench/state_memory.py [--customers 1000000] [--live-limit 100000|none]

A worker in memory mode holds every customer twice: the serialized state in the Faust
table (bytes, what the changelog carries) and its state in the detector, decoded for the
``--live-limit`` most recently used customers (``runtime.live_customers``) and encoded
for the rest (models/state_cache.py). This replays a generated log (2,000 customers, one
year) for realistic states, then adopts ``--customers`` of them under new ids the way a
restarted worker does (``Detector.restore``, which decodes each for its deadlines), then
reads as many as the limit allows (a worker's steady state), and reports the resident
memory that added per customer and how long the adoption took. Reading the changelog
from the broker is not included: that part depends on the broker and the network.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from churnwatch.engine import Detector
from churnwatch.replayer import valid_events
from churnwatch.settings import Settings
from churnwatch.simulate.generate import generate


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def template_states() -> list[bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.jsonl"
        generate(log, Path(tmp) / "labels.jsonl", customers=2_000, days=365, seed=7,
                 start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
        detector = Detector(Settings())
        for event in valid_events(log):
            detector.ingest(event)
            detector.advance()
        detector.finish()
        return [s.to_bytes() for s in detector.states.values()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--live-limit", default=str(Settings().runtime.live_customers),
                    help="states kept decoded (runtime.live_customers; 'none': all)")
    args = ap.parse_args()
    limit = None if args.live_limit.lower() == "none" else int(args.live_limit)
    templates = template_states()
    sizes = sorted(map(len, templates))
    print(f"serialized state: mean {statistics.mean(sizes):.0f} B, p50 {sizes[len(sizes) // 2]} "
          f"B, p95 {sizes[int(len(sizes) * 0.95)]} B, max {sizes[-1]} B "
          f"({len(sizes):,} customers, one year)")
    gc.collect()
    table: dict[bytes, bytes] = {}
    detector = Detector(Settings(), live_limit=limit)
    before = rss_bytes()
    began = time.perf_counter()
    for n in range(args.customers):
        # a copy, as a changelog read makes (bytes(b) would return b itself)
        table[f"c{n:09d}".encode()] = bytes(memoryview(templates[n % len(templates)]))
    detector.restore((key.decode(), value) for key, value in table.items())
    seconds = time.perf_counter() - began
    # a worker's steady state: as many customers decoded as the limit allows
    for cid in list(itertools.islice(detector.states, limit)):
        detector.states[cid]
    detector.compact()
    gc.collect()
    added = rss_bytes() - before
    print(f"adopted {args.customers:,} customers in {seconds:.1f} s "
          f"({args.customers / seconds:,.0f}/s): resident memory +{added / 2**20:,.0f} MiB, "
          f"{added / args.customers:,.0f} B per customer (table bytes and detector state, "
          f"{detector.states.live:,} states decoded)")


if __name__ == "__main__":
    main()
