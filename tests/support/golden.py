"""The golden replay cases: a hand-written sample log and a seeded generated one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import churnwatch
from churnwatch.settings import Settings
from churnwatch.simulate.campaign import run_campaign
from churnwatch.simulate.generate import generate

GOLDEN = Path(__file__).parents[1] / "golden"
"""The golden outputs; ``make golden`` rewrites them after a reviewed change."""


@dataclass(frozen=True)
class Case:
    name: str
    as_of: str | None
    generated: bool = False
    loop: bool = False
    """the generated log with a simulated campaign's actions, 30 % held out, follow-ups"""


CASES = (
    Case("sample", as_of="2025-06-30T00:00:00Z"),
    Case("generated", as_of=None, generated=True),
    Case("loop", as_of=None, generated=True, loop=True),
)
LOOP = {"holdout_share": 0.3, "follow_up": True}


def run_case(case: Case, tmp: Path, settings: Settings) -> churnwatch.ReplayResult:
    """Replay the case's log in memory (the CLI gives the same bytes: test_api.py)."""
    if case.loop:
        settings = settings.changed("loop", **LOOP)
    if case.generated:
        log = tmp / f"{case.name}.jsonl"
        generate(log, tmp / "labels.jsonl", customers=80, days=365, seed=11,
                 start=datetime(2024, 1, 1, tzinfo=UTC), noise=True)
        if case.loop:
            run_campaign(log, tmp / "labels.jsonl", settings, seed=11)
    else:
        log = GOLDEN / f"{case.name}.jsonl"
    return churnwatch.replay(log, settings=settings, as_of=case.as_of)
