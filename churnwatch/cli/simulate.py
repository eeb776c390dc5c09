"""Synthetic and public logs: ``generate`` (with a simulated campaign), ``confirm`` its
alerts against the truth, ``cdnow``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from churnwatch.cli.base import DETECTION, LOG, load_settings, main, parse_time, with_holdout


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
    from churnwatch.simulate.generate import generate as run
    from churnwatch.simulate.labels import labels_beside

    labels = labels or labels_beside(out)
    t0 = parse_time(start)
    assert t0 is not None
    result = run(out, labels, customers=customers, days=days, seed=seed,
                 start=datetime.fromtimestamp(t0, UTC), noise=noise)
    click.echo(f"{result.events} events ({result.invalid} invalid, {result.duplicates} "
               f"duplicated) for {result.customers} customers in {result.seconds:.1f} s; "
               f"labels in {labels}", err=True)
    if actions:
        from churnwatch.simulate.campaign import run_campaign

        settings = with_holdout(load_settings(DETECTION), holdout_share, default=0.1)
        done = run_campaign(out, labels, settings, seed)
        click.echo(f"campaign ({done.passes} passes): {done.actions} actions, "
                   f"{done.win_backs} customers won back, "
                   f"{settings.loop.holdout_share:.0%} held out (salt "
                   f"{settings.loop.holdout_salt!r}); truth in {labels}", err=True)


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
    from churnwatch.simulate.labels import check

    checks = check(alerts, labels)
    click.echo(f"{'signal':<22}{'labelled':>9}{'alerted':>9}{'confirmed':>10}{'recall':>8}"
               f"{'churn-precision':>16}{'median days after drift':>25}")
    for c in checks:
        delay = "-" if c.median_days_after_drift is None else f"{c.median_days_after_drift}"
        click.echo(f"{c.signal:<22}{c.labelled:>9}{c.alerted:>9}{c.confirmed:>10}"
                   f"{c.recall:>8.2f}{c.churn_precision:>16.2f}{delay:>25}")


@main.command()
@click.argument("source", type=LOG)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def cdnow(source: Path, out: Path) -> None:
    """Convert a CDNOW file (CDNOW_sample.txt or CDNOW_master.txt) into an order log."""
    from churnwatch.simulate.cdnow import convert

    click.echo(f"{convert(source, out)} orders", err=True)
