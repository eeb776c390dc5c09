"""Memory per customer and the CPU part of recovery, for a worker holding many customers.

    python bench/state_memory.py [--customers 1000000]

A worker in memory mode holds every customer twice: the serialized state in the Faust
table (bytes, what the changelog carries) and the live ``CustomerState`` in its detector.
This replays a generated log (2,000 customers, one year) for realistic states, then
adopts ``--customers`` of them under new ids the way a restarted worker does
(``Detector.restore``, which decodes each), and reports the resident memory
that added per customer and how long the adoption took. Reading the changelog from the
broker is not included: that part depends on the broker and the network.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from churnwatch.config import Settings
from churnwatch.detector import Detector
from churnwatch.generate import generate
from churnwatch.replayer import valid_events


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
    args = ap.parse_args()
    templates = template_states()
    sizes = sorted(map(len, templates))
    print(f"serialized state: mean {statistics.mean(sizes):.0f} B, p50 {sizes[len(sizes) // 2]} "
          f"B, p95 {sizes[int(len(sizes) * 0.95)]} B, max {sizes[-1]} B "
          f"({len(sizes):,} customers, one year)")
    gc.collect()
    table: dict[bytes, bytes] = {}
    detector = Detector(Settings())
    before = rss_bytes()
    began = time.perf_counter()
    for n in range(args.customers):
        # a copy, as a changelog read makes (bytes(b) would return b itself)
        table[f"c{n:09d}".encode()] = bytes(memoryview(templates[n % len(templates)]))
    detector.restore((key.decode(), value) for key, value in table.items())
    seconds = time.perf_counter() - began
    gc.collect()
    added = rss_bytes() - before
    print(f"adopted {args.customers:,} customers in {seconds:.1f} s "
          f"({args.customers / seconds:,.0f}/s): resident memory +{added / 2**20:,.0f} MiB, "
          f"{added / args.customers:,.0f} B per customer (table bytes and live state)")


if __name__ == "__main__":
    main()
