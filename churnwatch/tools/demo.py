"""``churnwatch demo``: the whole pipeline on one machine, with nothing to set up.

Starts the embedded broker (unless one is configured), a worker process, a synthetic
customer stream at a steady rate, and a live view of the alerts by signal and tier.
Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import click

from churnwatch.models.vocabulary import TIERS
from churnwatch.settings import Settings
from churnwatch.signals import SIGNAL_NAMES
from churnwatch.simulate.generate import generate
from churnwatch.streams.admin import ensure_topics, own_topic
from churnwatch.tools.broker import free_port, port_taken, running_broker
from churnwatch.tools.children import StopRequest, die_with_parent, stop_requested
from churnwatch.tools.produce import produce, read_lines
from churnwatch.tools.tail import RecallReader

DEMO_HOLDOUT = 0.1
"""The demo holds out 10 % unless configured otherwise (production: none by default)."""


def run_demo(settings: Settings, *, customers: int, rate: float, seconds: float | None,
             workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    work = workdir
    with ExitStack() as stack:
        if port_taken(settings.runtime.metrics_port, settings.runtime.metrics_host):
            settings = settings.changed("runtime", metrics_port=free_port())
        own_broker = not settings.kafka.brokers
        if own_broker:
            broker = stack.enter_context(running_broker(home=work))
            # the demo's own producer keys by customer: one hop
            settings = settings.changed("kafka", brokers=broker.url).changed(
                "runtime", keyed_sources=True)
            click.echo(f"embedded broker (Tansu) on {broker.url}")
        if not settings.loop.holdout_share:
            settings = settings.changed("loop", holdout_share=DEMO_HOLDOUT)
        ensure_topics(settings)
        log = work / "events.jsonl"
        made = generate(log, work / "labels.jsonl", customers=customers, days=730, seed=1,
                        start=datetime(2024, 1, 1, tzinfo=UTC), noise=True)
        click.echo(f"synthetic log: {made.events:,} events for {customers:,} customers "
                   f"({made.invalid} invalid, {made.duplicates} duplicated)")
        worker = _start_worker(settings, work / "worker.log")
        stack.callback(_stop, worker)
        rt = settings.runtime
        click.echo(f"worker log: {work / 'worker.log'}")
        click.echo("path:       " + ("one hop, straight from the source topics keyed by "
                                     "customer_id" if rt.keyed_sources else
                                     f"two hops, repartitioned through {own_topic(settings)}"))
        click.echo(f"holdout:    {settings.loop.holdout_share:.0%} of customers; their "
                   f"alerts go to {settings.topics.holdout}, not to {settings.topics.recall}")
        click.echo(f"metrics:    http://{rt.metrics_host}:{rt.metrics_port}/metrics")
        stop = threading.Event()
        sent = threading.Thread(target=produce, args=(read_lines(log), settings),
                                kwargs={"rate": rate, "stop": stop}, daemon=True)
        sent.start()
        stack.callback(sent.join, 15)  # let the producer close before the broker goes
        stack.callback(stop.set)
        with stop_requested() as stopping:  # a broker of its own holds only this run's
            _live_view(settings, rate, seconds, worker, stopping, everything=own_broker)
        if stopping.is_set():
            click.echo("\nstopping ...")


def _start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ,
           "CHURNWATCH_KAFKA__BROKERS": settings.kafka.brokers,
           "CHURNWATCH_RUNTIME__METRICS_PORT": str(settings.runtime.metrics_port),
           "CHURNWATCH_RUNTIME__KEYED_SOURCES": str(settings.runtime.keyed_sources).lower(),
           "CHURNWATCH_LOOP__HOLDOUT_SHARE": str(settings.loop.holdout_share)}
    if log.exists():  # one run per log: an old run's errors must not look like this one's
        log.replace(log.with_suffix(".previous.log"))
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "churnwatch.cli", "worker"],
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=die_with_parent)  # noqa: PLW1509


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _live_view(settings: Settings, rate: float, seconds: float | None,
               worker: subprocess.Popen[bytes], stopping: StopRequest, *,
               everything: bool) -> None:
    """``everything``: every alert on the recall topic, else those published from now on."""
    reader = RecallReader(settings, from_beginning=everything)
    counts: Counter[tuple[str, str]] = Counter()
    latest: list[str] = []
    began = time.monotonic()
    tty = sys.stdout.isatty()
    printed = -10.0
    try:
        while not stopping.is_set() and (seconds is None
                                         or time.monotonic() - began < seconds):
            if worker.poll() is not None:
                raise click.ClickException(f"the worker exited ({worker.returncode}); "
                                           "see its log")
            for alert in reader.poll(timeout_ms=1000):
                data = alert["data"]
                assert isinstance(data, dict)
                counts[data["signal"], data["tier"]] += 1
                latest = [*latest[-5:], f"{str(alert['time'])[:10]} {data['signal']:<20} "
                          f"{data['tier']:<9} {data['recommended_action']['code']}"]
            elapsed = time.monotonic() - began
            if tty:
                _draw(counts, latest, elapsed, rate)
            elif elapsed - printed >= 10:  # a log, not a screen: a line every 10 s
                printed = elapsed
                click.echo(f"[{elapsed:,.0f} s] alerts: {sum(counts.values())} "
                           + " ".join(f"{k}={v}" for k, v in sorted(_by_signal(counts).items())))
    finally:
        reader.close()


def _by_signal(counts: Counter[tuple[str, str]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for (signal, _), n in counts.items():
        out[signal] += n
    return out


def _draw(counts: Counter[tuple[str, str]], latest: list[str], elapsed: float,
          rate: float) -> None:
    lines = [f"churnwatch demo - {elapsed:,.0f} s, streaming ~{rate:,.0f} events/s "
             "(Ctrl-C to stop)", "",
             f"{'signal':<22}" + "".join(f"{t:>10}" for t in TIERS) + f"{'total':>10}"]
    for signal in SIGNAL_NAMES:
        row = [counts[signal, t] for t in TIERS]
        lines.append(f"{signal:<22}" + "".join(f"{n:>10}" for n in row) + f"{sum(row):>10}")
    lines += ["", "latest:", *latest]
    sys.stdout.write("\x1b[H\x1b[2J" + "\n".join(lines) + "\n")
    sys.stdout.flush()
