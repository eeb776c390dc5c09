"""The churnwatch pytest plugin, registered through the ``pytest11`` entry point.

Fixtures:
- ``churnwatch_settings``: the default :class:`~churnwatch.settings.Settings`, isolated from
  ``CHURNWATCH_*`` variables; override it in a conftest.py to change thresholds.
- ``event_log``: a fresh :class:`~churnwatch.testing.EventLog`.
- ``replay_events``: :func:`churnwatch.replay` with ``churnwatch_settings``, strict: an
  invalid input raises with its reason (``strict=False`` for a log with known bad lines).
- ``golden``: ``golden(result, "name")`` compares with ``name.*.jsonl`` beside the test
  file; ``pytest --churnwatch-update-golden`` writes them instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from churnwatch.replayer import AsOf, Events, ReplayResult, replay
from churnwatch.settings import Settings
from churnwatch.testing import EventLog, assert_matches_golden

UPDATE_OPTION = "--churnwatch-update-golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("churnwatch").addoption(
        UPDATE_OPTION, action="store_true", default=False,
        help="write churnwatch golden files instead of comparing with them")


@pytest.fixture
def churnwatch_settings() -> Settings:
    return Settings.build()


@pytest.fixture
def event_log() -> EventLog:
    return EventLog()


@pytest.fixture
def replay_events(churnwatch_settings: Settings) -> Callable[..., ReplayResult]:
    def run(events: Events, *, as_of: AsOf = None, strict: bool = True) -> ReplayResult:
        return replay(events, settings=churnwatch_settings, as_of=as_of, strict=strict)
    return run


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[ReplayResult, str], None]:
    here = Path(request.path).parent
    update = bool(request.config.getoption(UPDATE_OPTION))

    def check(result: ReplayResult, name: str) -> None:
        assert_matches_golden(result, os.path.normpath(here / name), update=update)
    return check
