"""The streaming worker measured on a local broker: throughput against a no-op Faust
agent, scale-out, producer batching, and event-to-alert latency.

    python bench/stream_bench.py [--broker tansu|kafka] [--customers 600]
                                 [--workers 1,2,4] [--hops 2,1]
                                 [--latency-seconds 60] [--latency-at EMBEDDED,BATCHED]
                                 [--peers PYTHON]

Writes a generated log into the source topics of a fresh broker (``--broker``: the
embedded Tansu, or a one-node Apache Kafka; on Kafka the worker runs with production
settings only, the embedded broker's one record per producer batch being Tansu's), then times
(1) a no-op Faust agent consuming all of it, the prototype of a batched one-hop worker
(bench/batch_worker_prototype.py), and with ``--peers`` (the Python of
bench/peers/.venv, ``make peers``) other engines keeping count and sum per customer on the
same topics: a Faust Table, Quix Streams, Bytewax, a bare confluent-kafka loop; (2) 1, 2,
4... churnwatch workers in one group (validate, repartition, detect, coalesced table
writes, alerts) until their detectors have taken in every event, from the first event
detected to the last; (3) one worker with the producer batching production uses (the
embedded defaults send one record per batch, see streams/app.py), (2) and (3) on each
path (``--hops``: 2 repartitions through <app>-events, 1 detects straight from the keyed
source topics); (4) latency, on each path with each producer setting: one worker fed a
second log at half that setting's one-worker rate.
Measured from outside (bench/latency.py): from the broker storing the event that let
event time pass an alert's trigger to a subscriber of the recall topic receiving the
alert, so it is the X in "allowed lateness + X" (event time waits ``allowed_lateness`` by
design). The worker's own histogram
(``churnwatch_alert_latency_seconds{since="received"}``), which starts at the tick that
released the alert, is printed beside it.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from latency import SentEvents, Subscriber, WatermarkOracle

from churnwatch.settings import Settings
from churnwatch.simulate.generate import generate
from churnwatch.streams.admin import ensure_topics, source_topics
from churnwatch.tools.broker import free_port, running_broker
from churnwatch.tools.produce import produce, read_lines

ROOT = Path(__file__).parents[1]
PEERS = ROOT / "bench" / "peers"
STALL = 120.0  # seconds without progress after which a run is reported as stuck (a worker
# with the embedded defaults paused its detect stage 25-40 s at a time on a backlog)
STARTUP = 180.0  # the same before the first event (a production-timeout group join)


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return str(r.read().decode())


def metric(port: int, name: str, labels: str = "") -> float:
    """Sum of a metric's samples whose label set contains ``labels``; 0 while down."""
    try:
        text = scrape(port)
    except OSError:
        return 0.0
    return sum(float(m.group(2)) for m in re.finditer(
        rf"^{name}(?:{{([^}}]*)}})? ([0-9.e+]+)$", text, re.M) if labels in (m.group(1) or ""))


@contextmanager
def workers(count: int, tmp: Path, env: dict[str, str]) -> Iterator[list[int]]:
    """``count`` worker processes in one group; yields their metrics ports."""
    ports = [free_port() for _ in range(count)]
    for port in ports:
        (tmp / f"w{port}").mkdir()
    procs = [subprocess.Popen(
        [sys.executable, "-m", "churnwatch.cli", "worker", "--loglevel", "warning"],
        env={**os.environ, **env, "CHURNWATCH_RUNTIME__METRICS_PORT": str(port),
             "CHURNWATCH_RUNTIME__DATA_DIR": str(tmp / f"w{port}")},
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    try:
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


def detected(ports: list[int]) -> float:
    return sum(metric(p, "churnwatch_events_detected_total") for p in ports)


def time_to_detect(ports: list[int], n: int) -> tuple[float, float, float]:
    """Seconds from the first event detected to the n-th, events detected (fewer than
    ``n`` if nothing moved for STALL seconds, STARTUP before the first event), and the
    workers' CPU seconds over those seconds."""
    start, last_change, done, cpu = None, time.monotonic(), 0.0, 0.0
    while done < n:
        now, seen = time.monotonic(), detected(ports)
        if seen > done:
            if start is None:
                start, cpu = now, -cpu_seconds(ports)
            done, last_change = seen, now
        elif now - last_change > (STALL if start else STARTUP):
            return last_change - (start or last_change), done, cpu + cpu_seconds(ports)
        time.sleep(0.2)
    return time.monotonic() - (start or time.monotonic()), done, cpu + cpu_seconds(ports)


def cpu_seconds(ports: list[int]) -> float:
    return sum(metric(p, "process_cpu_seconds_total") for p in ports)


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' estimate: linear within the bucket holding the q-th observation."""
    total = buckets[-1][1]
    rank, lower, below = q * total, 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = bound, count
    return lower


def latency_buckets(port: int) -> list[tuple[float, float]]:
    text = scrape(port)
    rows = re.findall(r'^churnwatch_alert_latency_seconds_bucket\{le="([^"]+)",'
                      r'since="received"\} ([0-9.e+]+)$', text, re.M)
    return sorted((float(le), float(count)) for le, count in rows)


def run_workers(label: str, count: int, n: int, tmp: Path, env: dict[str, str]) -> float:
    with workers(count, tmp, env) as ports:
        seconds, done, cpu = time_to_detect(ports, n)
        alerts = sum(metric(p, "churnwatch_alerts_total") for p in ports)
        writes = sum(metric(p, "churnwatch_state_writes_total") for p in ports)
    rate = done / seconds if seconds else 0.0
    stuck = "" if done >= n else f", STOPPED at {done:,.0f} of {n:,} events"
    print(f"{label}: {rate:,.0f} events/s ({seconds:.1f} s), {alerts:,.0f} alerts, "
          f"{writes:,.0f} state writes ({writes / max(done, 1):.2f} per event), "
          f"{1e6 * cpu / max(done, 1):.0f} us of worker CPU per event{stuck}", flush=True)
    return rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", choices=["tansu", "kafka"], default="tansu")
    ap.add_argument("--customers", type=int, default=600)
    ap.add_argument("--workers", default="1,2,4", help="group sizes to time")
    ap.add_argument("--hops", default="2,1", help="paths to time: 2 repartitions through "
                    "<app>-events, 1 detects straight from the keyed source topics")
    ap.add_argument("--latency-seconds", type=float, default=60.0,
                    help="length of each latency run; 0 skips them")
    ap.add_argument("--latency-at", metavar="EMBEDDED,BATCHED",
                    help="events/s of the two latency runs; skips the throughput runs "
                    "(default: half of what each producer setting reached)")
    ap.add_argument("--peers", metavar="PYTHON",
                    help="bench/peers/.venv/bin/python (make peers): time the peer engines "
                    "on the same topics after the no-op agent")
    args = ap.parse_args()
    embedded = args.broker == "tansu"
    with tempfile.TemporaryDirectory() as name, running_broker(
            kind="tansu" if embedded else "kafka", home=Path(name)) as b:
        tmp = Path(name)
        print(f"broker: {b.describe()}", flush=True)
        os.environ.update({"CHURNWATCH_KAFKA__BROKERS": b.url,
                           "CHURNWATCH_RUNTIME__FAST_GROUP_JOIN": str(embedded).lower()})
        hops = [int(h) for h in args.hops.split(",")]
        if args.latency_at:
            one, batched = (2 * float(rate) for rate in args.latency_at.split(","))
            rates = dict.fromkeys(hops, (one, batched))
        else:
            rates = throughput(args.customers, args.workers, hops, tmp, b.url, args.peers,
                               embedded)
        if args.latency_seconds > 0:
            log = tmp / "latency.jsonl"
            generate(log, tmp / "latency.labels.jsonl", customers=args.customers, days=730,
                     seed=4, start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
            lines = list(read_lines(log))
            for h, (one, batched) in rates.items():
                for label, rate, batching in (("embedded defaults", one / 2, "true"),
                                              ("production batching", batched / 2, "false")):
                    if rate and (embedded or batching == "false"):
                        measure_latency(f"{label} {PATHS[h]}", lines, rate,
                                        args.latency_seconds, tmp, {
                                            "CHURNWATCH_RUNTIME__FAST_GROUP_JOIN": batching,
                                            **path_env(h)})


PATHS = {2: "two hops", 1: "one hop"}


def path_env(hops: int) -> dict[str, str]:
    return {"CHURNWATCH_RUNTIME__KEYED_SOURCES": str(hops == 1).lower()}


def throughput(customers: int, group_sizes: str, hops: list[int], tmp: Path, url: str,
               peers: str | None, embedded: bool) -> dict[int, tuple[float, float]]:
    """Events/s of the no-op agent, of the peer engines (with ``peers``, the Python of
    bench/peers/.venv) and of each group size on each path; returns, per path, the
    one-worker rates with the embedded producer defaults and with production batching
    (on Apache Kafka, both are the group-size runs' production settings)."""
    log = tmp / "log.jsonl"
    made = generate(log, tmp / "l.jsonl", customers=customers, days=730,
                    seed=3, start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    settings = Settings()
    create_with_retention(settings)
    produce(read_lines(log), settings)  # which creates the other topics
    n = made.events
    print(f"{n:,} events in the source topics ({settings.topics.partitions} partitions "
          "each)", flush=True)
    topics = ",".join([settings.topics.orders, settings.topics.engagement,
                       settings.topics.complaints])
    noop = time_peer("no-op Faust agent", [
        sys.executable, str(ROOT / "bench" / "noop_agent.py"), url, topics, str(n), str(tmp)], n)
    parts = str(settings.topics.partitions)
    proto = [sys.executable, str(ROOT / "bench" / "batch_worker_prototype.py"), url, topics,
             str(n)]
    runs = [("prototype (issue 22): batch channel, no-op", [*proto, str(tmp / "p1"), parts,
                                                           "--noop"]),
            ("prototype: one hop + batches, detecting", [*proto, str(tmp / "p2"), parts]),
            ("the same, production producer batching",
             [*proto, str(tmp / "p3"), parts, "--batched"])]
    if peers:
        table = [sys.executable, str(PEERS / "faust_table.py"), url, topics, str(n)]
        runs += [
            ("Faust agent + Table count+sum", [*table, str(tmp / "t1"), parts]),
            ("the same, production producer batching",
             [*table, str(tmp / "t2"), parts, "--batched"]),
            ("Quix Streams, stateful count+sum (RocksDB, changelog)",
             [peers, str(PEERS / "quix_stateful.py"), url, topics, str(n), str(tmp / "q")]),
            ("Bytewax, Kafka input + stateful_map",
             [peers, str(PEERS / "bytewax_stateful.py"), url, topics, str(n)]),
            ("bare confluent-kafka loop + dict",
             [peers, str(PEERS / "confluent_loop.py"), url, topics, str(n)])]
    for label, cmd in runs:
        rate = time_peer(label, cmd, n)
        print(f"  = {rate / noop:.2f}x the no-op agent", flush=True)
    rates = {}
    for h in hops:
        one = 0.0
        for count in (int(c) for c in group_sizes.split(",")):
            rate = run_workers(f"{count} churnwatch worker(s), {PATHS[h]}", count, n, tmp,
                               {"CHURNWATCH_RUNTIME__APP_ID": f"bench-{h}-{count}",
                                **path_env(h)})
            print(f"  = {rate / noop:.2f}x the no-op agent", flush=True)
            one = one or rate
        if not embedded:  # the group-size runs already had production settings
            rates[h] = (one, one)
            continue
        # production batching: fast_group_join also sets one record per producer batch
        batched = run_workers(f"1 worker, {PATHS[h]}, production producer batching", 1, n,
                              tmp, {"CHURNWATCH_RUNTIME__APP_ID": f"bench-{h}-batched",
                                    "CHURNWATCH_RUNTIME__FAST_GROUP_JOIN": "false",
                                    **path_env(h)})
        print(f"  = {batched / noop:.2f}x the no-op agent", flush=True)
        rates[h] = (one, batched)
    return rates


def create_with_retention(settings: Settings) -> None:
    """The source topics, created with retention settings: Tansu describes only the configs
    a topic was created with, and Quix Streams fails at start without these two."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka.brokers)
    try:
        admin.create_topics([NewTopic(name, settings.topics.partitions, 1, topic_configs={
            "retention.ms": "604800000", "retention.bytes": "-1"})
            for name in source_topics(settings)])
    finally:
        admin.close()


def time_peer(label: str, cmd: list[str], n: int) -> float:
    """Events/s of a peer that prints DONE <seconds> [<alerts>] after the n-th event; 0 if
    it does not within STARTUP plus a millisecond an event."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(STARTUP + n / 1000, proc.kill)
    watchdog.start()
    assert proc.stdout is not None
    # Faust routes print() through its logger: the marker may sit inside a log line
    done = next((line.split("DONE ")[1].split() for line in proc.stdout if "DONE " in line),
                None)
    watchdog.cancel()
    proc.terminate()
    proc.wait()
    if not done:
        print(f"{label}: FAILED (exit {proc.returncode}, no result)", flush=True)
        return 0.0
    seconds, alerts = float(done[0]), f", {int(done[1]):,} alerts" if done[1:] else ""
    print(f"{label}: {n / seconds:,.0f} events/s ({seconds:.1f} s{alerts})", flush=True)
    return n / seconds


def measure_latency(label: str, lines: list[bytes], rate: float, seconds: float, tmp: Path,
                    env: dict[str, str]) -> None:
    """A worker on fresh topics, fed ``lines`` at ``rate`` events/s for ``seconds``."""
    slug = label.replace(" ", "-")
    os.environ.update({f"CHURNWATCH_TOPICS__{t}": f"latency-{slug}-{t.lower()}"
                       for t in ("ORDERS", "ENGAGEMENT", "COMPLAINTS", "RECALL", "DEAD_LETTER")})
    settings = Settings()
    ensure_topics(settings)
    lines = lines[: int(rate * seconds)]
    events = SentEvents()
    started = time.time()
    with workers(1, tmp, {**env, "CHURNWATCH_RUNTIME__APP_ID": f"bench-{slug}"}) as (port,), \
            Subscriber(settings) as subscriber:
        while metric(port, "churnwatch_ready") < 1:
            time.sleep(0.2)
        began = time.monotonic()
        sent = produce(lines, settings, rate=rate, on_sent=events)
        time_to_detect([port], len(lines))
        busy = time.monotonic() - began
        flushes = [metric(port, f"churnwatch_state_flush_seconds_{part}")
                   for part in ("count", "sum")]
        time.sleep(settings.runtime.idle_after + 5)  # the last alerts come when it is quiet
        buckets = latency_buckets(port)
    sources = [f"{topic}/{p}" for topic in source_topics(settings)
               for p in range(settings.topics.partitions)]
    oracle = WatermarkOracle(events.rows, sources,
                             settings.detection.allowed_lateness.total_seconds(),
                             settings.runtime.idle_after, started)
    waits = [(wall - released) for wall, trigger in subscriber.arrived.values()
             if (released := oracle.released(trigger)) is not None]
    x0, x50, x99, x100 = np.percentile(waits, [0, 50, 99, 100]) if waits else [math.nan] * 4
    p50, p99 = (histogram_quantile(q, buckets) for q in (0.5, 0.99))
    print(f"latency, {label}, at {sent.sent / sent.seconds:,.0f} events/s ({sent.sent:,} "
          f"events, {len(subscriber.arrived):,} alerts): event sent -> alert received by a "
          f"subscriber, beyond the allowed lateness: min {x0:.2f} s, p50 {x50:.2f} s, "
          f"p99 {x99:.2f} s, max {x100:.2f} s ({len(waits):,} alerts, "
          f"{sum(w <= 1 for w in waits):,} within 1 s); the worker's histogram (from the "
          f"releasing tick): p50 {p50:.2f} s, p99 {p99:.2f} s; {flushes[0]:,.0f} batches "
          f"of {busy:.1f} s took {flushes[1]:.1f} s together from their end to their ack "
          "(beside the detect agent)", flush=True)


if __name__ == "__main__":
    main()
