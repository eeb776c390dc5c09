"""Worker throughput against a no-op Faust agent, same broker, same topics, same run.

    python bench/stream_bench.py [--customers 600]

Produces a generated log into the source topics of a fresh embedded broker, then times
(1) a no-op Faust agent consuming all of it and (2) a churnwatch worker (validate,
repartition, detect, coalesced table writes, alerts) until its detector has taken in
every valid event. Times run from the first event consumed to the last one.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from churnwatch.config import Settings
from churnwatch.generate import generate
from churnwatch.streams.admin import ensure_topics
from churnwatch.streams.broker import free_port, running_broker
from churnwatch.streams.produce import produce, read_lines

ROOT = Path(__file__).parents[1]


def metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    total = 0.0
    for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M):
        total += float(m.group(1))
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=600)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_broker(log=Path(tmp) / "b.log") as b:
        log = Path(tmp) / "log.jsonl"
        made = generate(log, Path(tmp) / "l.jsonl", customers=args.customers, days=730,
                        seed=3, start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
        env = {"CHURNWATCH_KAFKA__BROKERS": b.url, "CHURNWATCH_RUNTIME__FAST_GROUP_JOIN": "true"}
        os.environ.update(env)
        settings = Settings()
        ensure_topics(settings)
        produce(read_lines(log), settings)
        n = made.events
        print(f"{n:,} events in the source topics ({settings.topics.partitions} partitions each)")
        topics = ",".join([settings.topics.orders, settings.topics.engagement,
                           settings.topics.complaints])
        proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "noop_agent.py"), b.url,
                                 topics, str(n)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        # Faust routes print() through its logger: the marker sits inside a log line
        noop_s = next(float(line.split("DONE ")[1].split()[0]) for line in proc.stdout
                      if "DONE " in line)
        proc.terminate()
        proc.wait()
        print(f"no-op Faust agent: {n / noop_s:,.0f} events/s ({noop_s:.1f} s)")
        port = free_port()
        worker = subprocess.Popen(
            [sys.executable, "-m", "churnwatch.cli", "worker", "--loglevel", "warning"],
            env={**os.environ, "CHURNWATCH_RUNTIME__METRICS_PORT": str(port)}, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            start = None
            while True:
                try:
                    done = metric(port, "churnwatch_events_detected_total")
                except OSError:
                    done = 0.0
                if done > 0 and start is None:
                    start = time.monotonic()
                if done >= n:
                    break
                time.sleep(0.2)
            seconds = time.monotonic() - (start or time.monotonic())
            alerts = metric(port, "churnwatch_alerts_total")
            writes = metric(port, "churnwatch_state_writes_total")
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        print(f"churnwatch worker: {n / seconds:,.0f} events/s ({seconds:.1f} s), "
              f"{alerts:,.0f} alerts, {writes:,.0f} state writes "
              f"({writes / n:.2f} per event)")


if __name__ == "__main__":
    main()
