"""Memory per customer in replay, at a million customers.

    python bench/replay_memory.py [--customers 1000000] [--days 10] [--seed 5]
                                  [--live-customers 100000|none]

Generates a seeded log in a child process (every customer active all along: the hard
case for keeping states encoded; the generator's memory stays out of the figure),
replays it with ``runtime.live_customers`` as given, and reports the
peak resident memory the replay added, per customer with at least one valid event, and
the replay speed. Run it in a fresh process per setting: the peak is the process's.
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from churnwatch.replayer import replay_files
from churnwatch.settings import Settings


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--live-customers", default="100000", help="a number, or 'none'")
    args = ap.parse_args()
    live = None if args.live_customers.lower() == "none" else int(args.live_customers)
    settings = Settings.build(runtime={"live_customers": live})
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        log = tmp / "log.jsonl"
        subprocess.run([sys.executable, "-m", "churnwatch.cli", "generate", "--out", str(log),
                        "--customers", str(args.customers), "--days", str(args.days),
                        "--seed", str(args.seed), "--noise"], check=True,
                       stdout=subprocess.DEVNULL)
        gc.collect()
        before = rss_bytes()
        began = time.perf_counter()
        report = replay_files(log, tmp / "alerts.jsonl", tmp / "customers.jsonl",
                              settings=settings, progress=False)
        seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    counts = report.counts
    print(f"live_customers={args.live_customers}: {counts.lines:,} lines, "
          f"{counts.customers:,} customers, {seconds:,.0f} s "
          f"({counts.lines / seconds:,.0f} lines/s); peak resident memory +"
          f"{(peak - before) / 2**20:,.0f} MiB, {(peak - before) / counts.customers:,.0f} B "
          f"per customer")


if __name__ == "__main__":
    main()
