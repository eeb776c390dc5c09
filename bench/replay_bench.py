"""Replay throughput and per-customer state size on a generated ~1M-event log.

    python bench/replay_bench.py [--customers 4400] [--days 730]

Prints events/s of `replay` (parse + detect + write) and the serialized state size per
customer (mean, p50, p95, max), measured on the final states.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from churnwatch.engine import Detector
from churnwatch.replayer import replay_files, valid_events
from churnwatch.settings import Settings
from churnwatch.simulate.generate import generate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=4400)
    ap.add_argument("--days", type=int, default=730)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.jsonl"
        made = generate(log, Path(tmp) / "labels.jsonl", customers=args.customers,
                        days=args.days, seed=7, start=datetime(2024, 1, 1, tzinfo=UTC),
                        noise=True)
        print(f"generate: {made.events:,} events in {made.seconds:.1f} s "
              f"({made.events / made.seconds:,.0f} events/s)")
        result = replay_files(log, Path(tmp) / "a.jsonl", Path(tmp) / "c.jsonl",
                        settings=Settings(), progress=False)
        print(f"replay:   {result.counts.lines:,} lines in {result.seconds:.1f} s "
              f"({result.events_per_second:,.0f} events/s), "
              f"{result.counts.total_alerts:,} alerts")
        detector = Detector(Settings())
        began = time.perf_counter()
        for event in valid_events(log):
            detector.ingest(event)
            detector.advance()
        detector.finish()
        seconds = time.perf_counter() - began
        print(f"detect:   {made.events / seconds:,.0f} events/s without output writing")
        sizes = sorted(len(s.to_bytes()) for s in detector.states.values())
        print(f"state:    {len(sizes):,} customers; bytes mean {statistics.mean(sizes):.0f}, "
              f"p50 {sizes[len(sizes) // 2]}, p95 {sizes[int(len(sizes) * 0.95)]}, "
              f"max {sizes[-1]}")


if __name__ == "__main__":
    main()
