"""What a signal declares about itself lets the engine skip it; the declarations must be
true. ``reads``: on any other trigger the signal finds nothing; ``timed``: it has a
deadline. Checked by running every signal on every item, as the engine once did."""

from pathlib import Path

import pytest

import churnwatch
from churnwatch.signals import ALL_SIGNALS, BY_TRIGGER
from churnwatch.signals.base import Signal
from tests.support.golden import CASES, Case, run_case


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_running_every_signal_on_every_item_finds_nothing_more(
        case: Case, tmp_path: Path, churnwatch_settings: churnwatch.Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    declared = run_case(case, tmp_path, churnwatch_settings)
    for kind in list(BY_TRIGGER):
        monkeypatch.setitem(BY_TRIGGER, kind, ALL_SIGNALS)
    every = run_case(case, tmp_path, churnwatch_settings)
    assert every.outputs() == declared.outputs()
    assert declared.alerts, "the case must raise alerts for this to mean anything"


@pytest.mark.parametrize("signal", ALL_SIGNALS, ids=lambda s: s.name)
def test_a_signal_is_timed_exactly_when_it_has_a_deadline(signal: Signal) -> None:
    overrides = type(signal).deadline is not Signal.deadline
    assert signal.timed == overrides
