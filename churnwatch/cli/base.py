"""The ``churnwatch`` group and what every command shares: settings loaded per section,
times and paths parsed one way, and a user's mistake told in plain words (``_Cli``)."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any, BinaryIO

import click

from churnwatch.errors import UserError
from churnwatch.settings import Settings
from churnwatch.settings.environment import DEBUG_VARIABLE, load

DETECTION = frozenset({"source", "detection", "risk", "loop"})
KAFKA = frozenset({"kafka", "topics"})
EVERYTHING = frozenset(Settings.model_fields)


def parse_time(value: str | None) -> float | None:
    if value is None:
        return None
    from churnwatch.models.events import parse_rfc3339  # one parser for every timestamp

    try:
        return parse_rfc3339(value).timestamp()
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def load_settings(uses: frozenset[str]) -> Settings:
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


def input_of(path: Path) -> Path | BinaryIO:
    """A path, or standard input for ``-``."""
    return sys.stdin.buffer if str(path) == "-" else path


LOG = click.Path(exists=True, dir_okay=False, path_type=Path)



def with_holdout(settings: Settings, share: float | None, default: float | None = None
                  ) -> Settings:
    """``settings`` with the holdout share given on the command line, if any (or
    ``default`` where the settings hold none out)."""
    if share is None and default is not None and not settings.loop.holdout_share:
        share = default
    if share is None:
        return settings
    return settings.changed("loop", holdout_share=share)
