"""Where a worker's time goes: py-spy samples one worker process while it works through a
backlog, and the functions are ranked by the share of samples they are in.

    python bench/worker_profile.py [--hops 1] [--embedded] [--seconds 25] [--py-spy PATH]

The 600-customer log of bench/stream_bench.py is written to a fresh embedded broker; one
worker starts on it (one hop or two, production producer batching unless ``--embedded``)
and is sampled for ``--seconds`` once it has detected 2,000 events. py-spy is not a
dependency of churnwatch: ``pip install py-spy`` somewhere and pass its path.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from stream_bench import create_with_retention, detected

from churnwatch.settings import Settings
from churnwatch.simulate.generate import generate
from churnwatch.streams.admin import ensure_topics
from churnwatch.tools.broker import free_port, running_broker
from churnwatch.tools.produce import produce, read_lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hops", type=int, choices=(1, 2), default=1)
    ap.add_argument("--embedded", action="store_true", help="one record per producer batch")
    ap.add_argument("--seconds", type=int, default=25)
    ap.add_argument("--py-spy", default="py-spy")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--keep", type=Path, help="also copy py-spy's raw samples here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as name, running_broker(home=Path(name)) as b:
        tmp = Path(name)
        os.environ.update({"CHURNWATCH_KAFKA__BROKERS": b.url,
                           "CHURNWATCH_RUNTIME__FAST_GROUP_JOIN": str(args.embedded).lower(),
                           "CHURNWATCH_RUNTIME__KEYED_SOURCES": str(args.hops == 1).lower()})
        generate(tmp / "log.jsonl", tmp / "l.jsonl", customers=600, days=730, seed=3,
                 start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
        settings = Settings()
        create_with_retention(settings)
        ensure_topics(settings)
        produce(read_lines(tmp / "log.jsonl"), settings)
        port = free_port()
        worker = subprocess.Popen(
            [sys.executable, "-m", "churnwatch.cli", "worker"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env={**os.environ,
                                            "CHURNWATCH_RUNTIME__METRICS_PORT": str(port),
                                            "CHURNWATCH_RUNTIME__DATA_DIR": name})
        try:
            while detected([port]) < 2000:
                time.sleep(0.2)
            raw = tmp / "samples.txt"
            subprocess.run([args.py_spy, "record", "-d", str(args.seconds), "-r", "200",
                            "-f", "raw", "-o", str(raw), "--pid", str(worker.pid)],
                           check=True, capture_output=True)
        finally:
            worker.terminate()
            worker.wait()
        if args.keep:
            args.keep.write_text(raw.read_text())
        report(raw.read_text(), args.top)


def report(collapsed: str, top: int) -> None:
    """Share of samples each function is in (inclusive), and at the top of (self)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame.split(" (")[0] for frame in stack.split(";")]
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    print(f"{total:,} samples")
    for label, counts in (("in", inclusive), ("self", own)):
        for frame, hits in counts.most_common(top):
            print(f"{100 * hits / total:5.1f} % {label:<4} {frame}")


if __name__ == "__main__":
    main()
