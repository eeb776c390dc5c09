"""Kafka: the ``worker``, a local ``broker``, ``produce`` and ``tail`` topics, the ``demo``."""

from __future__ import annotations

from pathlib import Path

import click

from churnwatch.cli.base import EVERYTHING, KAFKA, input_of, load_settings, main
from churnwatch.errors import UserError


@main.command()
@click.option("--kind", type=click.Choice(["tansu", "kafka"]), default="tansu",
              show_default=True, help="tansu: the embedded broker (memory only); kafka: "
              "Apache Kafka (KRaft), its jars fetched with Maven on first use")
@click.option("--port", default=9092, show_default=True, type=click.IntRange(1, 65535),
              help="the (first) node's client port")
@click.option("--nodes", default=1, show_default=True, type=click.Choice(["1", "3"]),
              help="Apache Kafka only: 3 gives replication 3 and min.insync.replicas 2")
def broker(kind: str, port: int, nodes: str) -> None:
    """Run a local Kafka broker on 127.0.0.1 until Ctrl-C or SIGTERM."""
    from churnwatch.tools.broker import port_taken, start_broker
    from churnwatch.tools.children import sigterm_as_interrupt

    if port_taken(port):
        raise UserError(f"port {port} is already in use on 127.0.0.1: choose another "
                        "with --port")
    if kind == "tansu" and nodes != "1":
        raise UserError("the embedded broker runs one node; use --kind kafka for three")
    running = start_broker(port, kind="kafka" if kind == "kafka" else "tansu",
                           nodes=int(nodes))
    click.echo(f"{running.describe()} listening on {running.url} (started in "
               f"{running.started_in:.1f} s); Ctrl-C or SIGTERM to stop", err=True)
    try:
        with sigterm_as_interrupt():
            running.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


@main.command()
@click.option("--loglevel", default="info", show_default=True)
def worker(loglevel: str) -> None:
    """Run a streaming worker against the configured Kafka cluster (production)."""
    from churnwatch.streams.worker import run_worker

    run_worker(load_settings(EVERYTHING), loglevel=loglevel)


@main.command()
@click.argument("log", type=click.Path(exists=True, dir_okay=False, allow_dash=True,
                                       path_type=Path))
@click.option("--rate", default=0.0, show_default=True, type=click.FloatRange(0),
              help="events per second; 0 sends as fast as possible")
def produce(log: Path, rate: float) -> None:
    """Send an event log (- for standard input) into the source topics, event times kept
    as Kafka timestamps."""
    from churnwatch.tools.produce import produce as send

    source = input_of(log)
    with source.open("rb") if isinstance(source, Path) else source as lines:
        result = send(lines, load_settings(KAFKA), rate=rate)
    click.echo(f"sent {result.sent} events in {result.seconds:.1f} s", err=True)


@main.command()
@click.option("--from-beginning", is_flag=True, help="start at the oldest alert")
@click.option("--json", "as_json", is_flag=True, help="print the raw CloudEvents")
def tail(from_beginning: bool, as_json: bool) -> None:
    """Print alerts from the recall topic as they arrive: those published from now on, or
    all of them."""
    import orjson

    from churnwatch.tools.tail import alerts, describe

    settings = load_settings(KAFKA)
    def positioned() -> None:
        if not from_beginning:
            click.echo(f"showing alerts published to {settings.topics.recall} from now on",
                       err=True)

    for alert in alerts(settings, from_beginning=from_beginning, on_positioned=positioned):
        click.echo(orjson.dumps(alert).decode() if as_json else describe(alert))


@main.command()
@click.option("--customers", default=1500, show_default=True, type=click.IntRange(10))
@click.option("--rate", default=800.0, show_default=True, type=click.FloatRange(1),
              help="events per second streamed into the broker")
@click.option("--seconds", default=None, type=click.FloatRange(1),
              help="stop after this long (default: run until Ctrl-C)")
@click.option("--workdir", default=Path(".churnwatch-demo"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="where the synthetic log and the broker and worker logs go")
def demo(customers: int, rate: float, seconds: float | None, workdir: Path) -> None:
    """Broker, worker, synthetic customers and a live view of the alerts, in one command."""
    from churnwatch.tools.demo import run_demo

    run_demo(load_settings(EVERYTHING), customers=customers, rate=rate, seconds=seconds,
             workdir=workdir)
