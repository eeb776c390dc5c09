"""The ``churnwatch`` command line.

A user's mistake (a bad setting, a missing file, no broker) ends the command with one or
two plain lines and exit status 1; ``--debug`` or ``CHURNWATCH_DEBUG=1`` adds the
traceback. Each command loads only the settings sections it uses.
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import click

from churnwatch.config import Settings
from churnwatch.environment import DEBUG_VARIABLE, load
from churnwatch.errors import UserError

DETECTION = frozenset({"source", "detection", "risk", "loop"})
KAFKA = frozenset({"kafka", "topics"})
EVERYTHING = frozenset(Settings.model_fields)


def _time(value: str | None) -> float | None:
    if value is None:
        return None
    from churnwatch.models.events import parse_rfc3339  # one parser for every timestamp

    try:
        return parse_rfc3339(value).timestamp()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _settings(uses: frozenset[str]) -> Settings:
    """The environment's settings for a command using these sections; warnings to stderr."""
    settings, warnings = load(uses)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    return settings


def _explain(exc: Exception) -> str | None:
    """The plain words for an exception a user can act on; None for a defect."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    name = type(exc).__name__
    if name in ("NoBrokersAvailable", "KafkaConnectionError", "KafkaTimeoutError"):
        return (f"cannot reach the Kafka brokers ({name}): check CHURNWATCH_KAFKA__BROKERS "
                "and the security settings, or start a local one with `churnwatch broker`")
    return None


class _Cli(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if ctx.meta.get("debug"):
                raise
            message = _explain(exc)
            if message is None:
                detail = "".join(traceback.format_exception_only(exc)).strip()
                message = (f"internal error: {detail}\n  Please report it with the output "
                           "of the same command run with --debug.")
            raise click.ClickException(message) from None


def _debug(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta["debug"] = value or os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")
    return value


@click.group(cls=_Cli)
@click.version_option(package_name="churnwatch")
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_debug,
              help=f"show tracebacks (also {DEBUG_VARIABLE}=1)")
def main() -> None:
    """Streaming churn-signal detector: rolling RFM per customer, early-warning alerts."""


def _input(path: Path) -> Path | BinaryIO:
    """A path, or standard input for ``-``."""
    return sys.stdin.buffer if str(path) == "-" else path


@main.command()
@click.argument("log", type=click.Path(exists=True, dir_okay=False, allow_dash=True,
                                       path_type=Path))
@click.option("--alerts", "alerts", required=True, type=click.Path(path_type=Path),
              help="write alerts here, one CloudEvent per line")
@click.option("--customers", required=True, type=click.Path(path_type=Path),
              help="write one line per customer as of the end")
@click.option("--as-of", "as_of", default=None,
              help="advance event time to this RFC 3339 time after the last event")
@click.option("--dead-letter", "dead_letter", type=click.Path(path_type=Path), default=None,
              help="write invalid and late lines here, with line number and reason")
@click.option("--holdout", "holdout", type=click.Path(path_type=Path), default=None,
              help="write the held-out alerts here (loop.holdout_share; never into ALERTS)")
def replay(log: Path, alerts: Path, customers: Path, as_of: str | None,
           dead_letter: Path | None, holdout: Path | None) -> None:
    """Run the detection logic over an event log (JSON Lines; - for standard input),
    with no broker. Exits 1 if no line is a valid event."""
    from churnwatch.engine import replay_files

    report = replay_files(_input(log), alerts, customers, settings=_settings(DETECTION),
                          as_of=_time(as_of), dead_letter=dead_letter, holdout=holdout)
    c = report.counts
    summary = ", ".join(f"{k} {v}" for k, v in c.alerts.items()) or "none"
    click.echo(
        f"{c.lines} lines in {report.seconds:.1f} s ({report.events_per_second:,.0f}/s): "
        f"{c.invalid} invalid, {c.duplicates} duplicate, {c.late} late, "
        f"{c.out_of_time} out of time; "
        f"{c.customers} customers; alerts: {summary}", err=True)
    if c.lines and not c.accepted:
        raise UserError(f"no line of {log} is a valid event ({report.first_problem}): "
                        "churnwatch reads JSON Lines,\n  one event object per line as in "
                        "docs/CONTRACT.md")
    if not c.lines:
        raise UserError(f"{log} holds no events")
    if (dropped := c.invalid + c.late + c.out_of_time) and dead_letter is None:
        click.echo(f"warning: {dropped} lines were not applied; name a file with "
                   "--dead-letter to see each one with its reason", err=True)


@main.command()
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="the event log to write (JSON Lines)")
@click.option("--labels", type=click.Path(path_type=Path), default=None,
              help="ground truth per customer [default: LOG with .labels.jsonl]")
@click.option("--customers", default=6000, show_default=True, type=click.IntRange(1))
@click.option("--days", default=730, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--start", default="2024-01-01T00:00:00Z", show_default=True)
@click.option("--noise/--no-noise", default=False, show_default=True,
              help="add duplicates, reordering within 2 minutes and invalid lines")
@click.option("--actions", is_flag=True, help="add a simulated marketing system acting on "
              "the alerts, with a known effect per signal (the truth goes to LABELS)")
@click.option("--holdout-share", "holdout_share", type=click.FloatRange(0, 1), default=None,
              help="with --actions: the share held out [default: loop.holdout_share, "
              "or 0.1 if that is 0]")
def generate(out: Path, labels: Path | None, customers: int, days: int, seed: int, start: str,
             noise: bool, actions: bool, holdout_share: float | None) -> None:
    """Write a seeded synthetic event log and its ground-truth labels."""
    from churnwatch.generate import generate as run
    from churnwatch.labels import labels_beside

    labels = labels or labels_beside(out)
    t0 = _time(start)
    assert t0 is not None
    result = run(out, labels, customers=customers, days=days, seed=seed,
                 start=datetime.fromtimestamp(t0, UTC), noise=noise)
    click.echo(f"{result.events} events ({result.invalid} invalid, {result.duplicates} "
               f"duplicated) for {result.customers} customers in {result.seconds:.1f} s; "
               f"labels in {labels}", err=True)
    if actions:
        from churnwatch.campaign import run_campaign

        settings = _with_holdout(_settings(DETECTION), holdout_share, default=0.1)
        done = run_campaign(out, labels, settings, seed)
        click.echo(f"campaign ({done.passes} passes): {done.actions} actions, "
                   f"{done.win_backs} customers won back, "
                   f"{settings.loop.holdout_share:.0%} held out (salt "
                   f"{settings.loop.holdout_salt!r}); truth in {labels}", err=True)


def _with_holdout(settings: Settings, share: float | None, default: float | None = None
                  ) -> Settings:
    """``settings`` with the holdout share given on the command line, if any (or
    ``default`` where the settings hold none out)."""
    if share is None and default is not None and not settings.loop.holdout_share:
        share = default
    if share is None:
        return settings
    return settings.changed("loop", holdout_share=share)


@main.command()
@click.argument("log", type=click.Path(exists=True, dir_okay=False, allow_dash=True,
                                       path_type=Path))
@click.option("--as-of", "as_of", default=None,
              help="advance event time to this RFC 3339 time after the last event")
@click.option("--holdout-share", "holdout_share", type=click.FloatRange(0, 1), default=None,
              help="the share held out when the alerts were made [default: "
              "loop.holdout_share]")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None,
              help="also write the report as JSON here")
@click.option("--html", "html_out", type=click.Path(path_type=Path), default=None,
              help="also write the report as a self-contained page with plots here")
def outcomes(log: Path, as_of: str | None, holdout_share: float | None,
             json_out: Path | None, html_out: Path | None) -> None:
    """Did acting on alerts win customers back? Replays LOG (events and the actions
    marketing reported) and compares, per signal, tier and action, the win-back of
    treated alerts with that of held-out ones (rates with 95 % intervals, uplift, test,
    incremental revenue per alert)."""
    import orjson

    from churnwatch.engine import replay
    from churnwatch.labels import labels_beside, recorded_campaign
    from churnwatch.outcomes import render, report

    settings = _with_holdout(_settings(DETECTION), holdout_share)
    labels = labels_beside(log)
    recorded = None if holdout_share is not None or settings.loop.holdout_share or (
        str(log) == "-") else recorded_campaign(labels)
    if recorded is not None:  # the share the alerts were made with, not a guess of 0
        share, salt = recorded["holdout_share"], recorded["holdout_salt"]
        settings = settings.changed("loop", holdout_share=share, holdout_salt=salt)
        click.echo(f"holdout: {share:.0%} of customers (salt {salt!r}), as recorded in "
                   f"{labels}", err=True)
    source = sys.stdin.buffer if str(log) == "-" else log
    result = replay(source, settings=settings, as_of=_time(as_of))
    found = report(result, settings)
    click.echo(render(found))
    if not result.held_out:
        click.echo("warning: no alert was held out (loop.holdout_share is "
                   f"{settings.loop.holdout_share:g}): there is nothing to compare with",
                   err=True)
    if json_out is not None:
        json_out.write_bytes(orjson.dumps(found.to_json(), option=orjson.OPT_INDENT_2))
    if html_out is not None:
        from churnwatch.outcome_page import page

        html_out.write_text(page(found), encoding="utf-8")


@main.command()
@click.argument("alerts", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("labels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def confirm(alerts: Path, labels: Path) -> None:
    """Check ALERTS (from `replay`) against LABELS (from `generate`), signal by signal.

    \b
    labelled         customers whose drift this signal is meant to catch
    alerted          customers with at least one alert of this signal
    confirmed        labelled and alerted
    recall           confirmed / labelled
    churn-precision  share of alerted customers who churn, for any reason
    median days      first alert minus the labelled start of the drift
    """
    from churnwatch.labels import check

    checks = check(alerts, labels)
    click.echo(f"{'signal':<22}{'labelled':>9}{'alerted':>9}{'confirmed':>10}{'recall':>8}"
               f"{'churn-precision':>16}{'median days after drift':>25}")
    for c in checks:
        delay = "-" if c.median_days_after_drift is None else f"{c.median_days_after_drift}"
        click.echo(f"{c.signal:<22}{c.labelled:>9}{c.alerted:>9}{c.confirmed:>10}"
                   f"{c.recall:>8.2f}{c.churn_precision:>16.2f}{delay:>25}")


LOG = click.Path(exists=True, dir_okay=False, path_type=Path)


def _cutoff(value: str) -> float:
    """A date means the end of that day: its events belong before the cutoff."""
    if len(value) == 10:
        return (_time(f"{value}T00:00:00Z") or 0.0) + 86_400
    return _time(value) or 0.0


@main.command()
@click.argument("log", type=LOG)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="write the parameter file here (JSON); point CHURNWATCH_RISK__PARAMS_FILE "
              "at it")
@click.option("--horizon-weeks", "horizon", default=26.0, show_default=True,
              type=click.FloatRange(1), help="the risk is P(no purchase within this)")
@click.option("--as-of", "as_of", default=None, help="fit on events before this time "
              "(date or RFC 3339) [default: the whole log]")
def fit(log: Path, out: Path, horizon: float, as_of: str | None) -> None:
    """Fit MBG/NBD, Gamma-Gamma and the risk score to a log, by maximum likelihood."""
    from churnwatch.fit import fit_log

    doc = fit_log(log, _settings(DETECTION), horizon, None if as_of is None else _cutoff(as_of))
    out.write_bytes(doc.dump())
    m, g, r = doc.mbgnbd, doc.gamma_gamma, doc.risk
    click.echo(f"version {doc.version}: MBG/NBD r={m.r:.4f} alpha={m.alpha:.4f} a={m.a:.4f} "
               f"b={m.b:.4f} (LL {m.log_likelihood:.1f}, {m.customers} customers); "
               f"Gamma-Gamma p={g.p:.4f} q={g.q:.4f} gamma={g.gamma:.4f} "
               f"({g.customers} repeat buyers); risk trained on {r.customers} customers, "
               f"{r.feature_weeks:.1f}-week horizon", err=True)


@main.command()
@click.argument("log", type=LOG)
@click.option("--cutoff", required=True, help="date or RFC 3339 time: the models see only "
              "events before it")
@click.option("--horizon-weeks", "horizon", default=26.0, show_default=True,
              type=click.FloatRange(1), help="churn = no purchase within this after the cutoff")
@click.option("--json", "as_json", type=click.Path(path_type=Path), default=None,
              help="also write the report as JSON")
def evaluate(log: Path, cutoff: str, horizon: float, as_json: Path | None) -> None:
    """Score customers at a cutoff and compare with what they did in the horizon after it."""
    import dataclasses

    import orjson

    from churnwatch.evaluate import evaluate as run
    from churnwatch.evaluate import render

    settings = _settings(DETECTION)
    try:
        report = run(log, settings, _cutoff(cutoff), horizon, settings.risk.alert_threshold)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render(report), nl=False)
    if as_json:
        as_json.write_bytes(orjson.dumps(dataclasses.asdict(report) | {
            "model": report.model.model_dump()}, option=orjson.OPT_INDENT_2))


@main.command()
@click.argument("source", type=LOG)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def cdnow(source: Path, out: Path) -> None:
    """Convert a CDNOW file (CDNOW_sample.txt or CDNOW_master.txt) into an order log."""
    from churnwatch.cdnow import convert

    click.echo(f"{convert(source, out)} orders", err=True)


@main.command()
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="the directory to write the schemas into (created if missing)")
def schema(out: Path) -> None:
    """Write the JSON Schema of every event kind, of the alert and of a customer line, and
    the AsyncAPI document of the topics (asyncapi.json), which refers to them."""
    import orjson

    from churnwatch.models.schema import write_schemas
    from churnwatch.streams.asyncapi import document

    for path in write_schemas(out):
        click.echo(str(path))
    path = out / "asyncapi.json"
    path.write_bytes(orjson.dumps(document(), option=orjson.OPT_INDENT_2) + b"\n")
    click.echo(str(path))


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
    from churnwatch.streams.broker import port_taken, start_broker
    from churnwatch.streams.children import sigterm_as_interrupt

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

    run_worker(_settings(EVERYTHING), loglevel=loglevel)


@main.command()
@click.argument("log", type=click.Path(exists=True, dir_okay=False, allow_dash=True,
                                       path_type=Path))
@click.option("--rate", default=0.0, show_default=True, type=click.FloatRange(0),
              help="events per second; 0 sends as fast as possible")
def produce(log: Path, rate: float) -> None:
    """Send an event log (- for standard input) into the source topics, event times kept
    as Kafka timestamps."""
    from churnwatch.streams.produce import produce as send

    source = _input(log)
    with source.open("rb") if isinstance(source, Path) else source as lines:
        result = send(lines, _settings(KAFKA), rate=rate)
    click.echo(f"sent {result.sent} events in {result.seconds:.1f} s", err=True)


@main.command()
@click.option("--from-beginning", is_flag=True, help="start at the oldest alert")
@click.option("--json", "as_json", is_flag=True, help="print the raw CloudEvents")
def tail(from_beginning: bool, as_json: bool) -> None:
    """Print alerts from the recall topic as they arrive: those published from now on, or
    all of them."""
    import orjson

    from churnwatch.streams.tail import alerts, describe

    settings = _settings(KAFKA)
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
    from churnwatch.streams.demo import run_demo

    run_demo(_settings(EVERYTHING), customers=customers, rate=rate, seconds=seconds,
             workdir=workdir)


@main.command()
def settings() -> None:
    """Print the effective settings (defaults, config file, environment), secrets masked."""
    click.echo(_settings(EVERYTHING).model_dump_json(indent=2))


if __name__ == "__main__":
    sys.exit(main())
