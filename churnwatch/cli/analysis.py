"""Models and measurement: ``fit``, ``evaluate``, ``outcomes``, ``calibration``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from churnwatch.cli.base import DETECTION, LOG, load_settings, main, parse_time, with_holdout
from churnwatch.settings import Settings


def _cutoff(value: str) -> float:
    """A date means the end of that day: its events belong before the cutoff."""
    if len(value) == 10:
        return _start(value) + 86_400
    return parse_time(value) or 0.0


def _start(value: str) -> float:
    """A date means the start of that day."""
    return parse_time(f"{value}T00:00:00Z" if len(value) == 10 else value) or 0.0


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

    from churnwatch.analysis.outcomes import render, report
    from churnwatch.replayer import replay
    from churnwatch.simulate.labels import labels_beside, recorded_campaign

    settings = with_holdout(load_settings(DETECTION), holdout_share)
    labels = labels_beside(log)
    recorded = None if holdout_share is not None or settings.loop.holdout_share or (
        str(log) == "-") else recorded_campaign(labels)
    if recorded is not None:  # the share the alerts were made with, not a guess of 0
        share, salt = recorded["holdout_share"], recorded["holdout_salt"]
        settings = settings.changed("loop", holdout_share=share, holdout_salt=salt)
        click.echo(f"holdout: {share:.0%} of customers (salt {salt!r}), as recorded in "
                   f"{labels}", err=True)
    source = sys.stdin.buffer if str(log) == "-" else log
    result = replay(source, settings=settings, as_of=parse_time(as_of))
    found = report(result, settings)
    click.echo(render(found))
    if not result.held_out:
        click.echo("warning: no alert was held out (loop.holdout_share is "
                   f"{settings.loop.holdout_share:g}): there is nothing to compare with",
                   err=True)
    if json_out is not None:
        json_out.write_bytes(orjson.dumps(found.to_json(), option=orjson.OPT_INDENT_2))
    if html_out is not None:
        from churnwatch.analysis.outcome_page import page

        html_out.write_text(page(found), encoding="utf-8")


@main.command()
@click.argument("log", type=click.Path(exists=True, dir_okay=False, allow_dash=True,
                                       path_type=Path))
@click.option("--as-of", "as_of", default=None,
              help="advance event time to this RFC 3339 time after the last event")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None,
              help="also write the report as JSON here")
@click.option("--html", "html_out", type=click.Path(path_type=Path), default=None,
              help="also write the report as a self-contained page with plots here")
def calibration(log: Path, as_of: str | None, json_out: Path | None,
                html_out: Path | None) -> None:
    """Is the risk still true? Replays LOG and sets every risk its alerts published against
    what the customer did within the horizon: ECE, Brier score and AUC per horizon and per
    month of prediction, the reliability per risk decile, and a one-line verdict."""
    import orjson

    from churnwatch.analysis.reliability import render, report
    from churnwatch.replayer import replay

    settings = load_settings(DETECTION)
    source = sys.stdin.buffer if str(log) == "-" else log
    result = replay(source, settings=settings, as_of=parse_time(as_of))
    found = report(result.settled, settings.risk.doc().version, result.counts.untracked)
    click.echo(render(found))
    if json_out is not None:
        json_out.write_bytes(orjson.dumps(found.to_json(), option=orjson.OPT_INDENT_2))
    if html_out is not None:
        from churnwatch.analysis.reliability_page import page

        html_out.write_text(page(found), encoding="utf-8")


@main.command()
@click.argument("log", type=LOG)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="write the parameter file here (JSON); point CHURNWATCH_RISK__PARAMS_FILE "
              "at it")
@click.option("--horizon-weeks", "horizon", default=26.0, show_default=True,
              type=click.FloatRange(1), help="the risk is P(no purchase within this)")
@click.option("--as-of", "as_of", default=None, help="fit on events before this time "
              "(date or RFC 3339) [default: the whole log]")
@click.option("--recalibrate", is_flag=True, help="do not refit: replay LOG with the current "
              "model (risk.params_file) and fit a monotone map of its risk to the risks its "
              "alerts published that settled (Platt scaling); the file written is the current "
              "model with that map")
@click.option("--since", "since", default=None, help="with --recalibrate: only risks made "
              "from this time (date or RFC 3339) [default: the year before the newest settled]")
@click.option("--until", "until", default=None, help="with --recalibrate: only risks made "
              "before this time")
def fit(log: Path, out: Path, horizon: float, as_of: str | None, recalibrate: bool,
        since: str | None, until: str | None) -> None:
    """Fit MBG/NBD, Gamma-Gamma and the risk score to a log, by maximum likelihood; or,
    with --recalibrate, bring the current risk's level back to what customers did."""
    settings = load_settings(DETECTION)
    if recalibrate:
        _recalibrate(log, out, settings, since, until)
        return
    if since or until:
        raise click.UsageError("--since and --until go with --recalibrate")
    from churnwatch.analysis.fit import fit_log

    doc = fit_log(log, settings, horizon, None if as_of is None else _cutoff(as_of))
    out.write_bytes(doc.dump())
    m, g, r = doc.mbgnbd, doc.gamma_gamma, doc.risk
    click.echo(f"version {doc.version}: MBG/NBD r={m.r:.4f} alpha={m.alpha:.4f} a={m.a:.4f} "
               f"b={m.b:.4f} (LL {m.log_likelihood:.1f}, {m.customers} customers); "
               f"Gamma-Gamma p={g.p:.4f} q={g.q:.4f} gamma={g.gamma:.4f} "
               f"({g.customers} repeat buyers); risk trained on {r.customers} customers, "
               f"{r.feature_weeks:.1f}-week horizon", err=True)




def _recalibrate(log: Path, out: Path, settings: Settings, since: str | None,
                 until: str | None) -> None:
    from churnwatch.analysis.recalibrate import recalibrate

    try:
        done = recalibrate(log, settings, None if since is None else _start(since),
                           None if until is None else _start(until))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    out.write_bytes(done.doc.dump())
    c, b, a = done.doc.recalibration, done.before, done.after
    assert c is not None
    click.echo(f"version {done.doc.version}: log-odds x {c.slope:.4f} {c.offset:+.4f}, from "
               f"{c.predictions:,} settled risks made {c.made_from} .. {c.made_to}; on them "
               f"ECE {b.ece:.3f} -> {a.ece:.3f}, mean risk {b.mean_predicted:.3f} -> "
               f"{a.mean_predicted:.3f} (churned {b.observed:.3f}), AUC {b.auc:.4f} -> "
               f"{a.auc:.4f}", err=True)


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

    from churnwatch.analysis.evaluate import evaluate as run
    from churnwatch.analysis.evaluate import render

    settings = load_settings(DETECTION)
    try:
        report = run(log, settings, _cutoff(cutoff), horizon, settings.risk.alert_threshold)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render(report), nl=False)
    if as_json:
        as_json.write_bytes(orjson.dumps(dataclasses.asdict(report) | {
            "model": report.model.model_dump()}, option=orjson.OPT_INDENT_2))
