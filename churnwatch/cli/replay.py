"""``replay`` and what describes its input and output: ``schema``, ``settings``."""

from __future__ import annotations

from pathlib import Path

import click

from churnwatch.cli.base import DETECTION, EVERYTHING, input_of, load_settings, main, parse_time
from churnwatch.errors import UserError


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
    from churnwatch.replayer import replay_files

    report = replay_files(input_of(log), alerts, customers, settings=load_settings(DETECTION),
                          as_of=parse_time(as_of), dead_letter=dead_letter, holdout=holdout)
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
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="the directory to write the schemas into (created if missing)")
def schema(out: Path) -> None:
    """Write the JSON Schema of every event kind, of the alert and of a customer line, and
    the AsyncAPI document of the topics (asyncapi.json), which refers to them."""
    import orjson

    from churnwatch.models.schema import write_schemas
    from churnwatch.tools.asyncapi import document

    for path in write_schemas(out):
        click.echo(str(path))
    path = out / "asyncapi.json"
    path.write_bytes(orjson.dumps(document(), option=orjson.OPT_INDENT_2) + b"\n")
    click.echo(str(path))


@main.command()
def settings() -> None:
    """Print the effective settings (defaults, config file, environment), secrets masked."""
    click.echo(load_settings(EVERYTHING).model_dump_json(indent=2))
