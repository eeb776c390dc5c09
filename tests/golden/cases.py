"""The golden replay cases: a hand-written sample log and a seeded generated one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import churnwatch
from churnwatch.config import Settings
from churnwatch.generate import generate

GOLDEN = Path(__file__).parent


@dataclass(frozen=True)
class Case:
    name: str
    as_of: str | None
    generated: bool = False


CASES = (
    Case("sample", as_of="2025-06-30T00:00:00Z"),
    Case("generated", as_of=None, generated=True),
)


def run_case(case: Case, tmp: Path, settings: Settings) -> churnwatch.ReplayResult:
    """Replay the case's log in memory (the CLI gives the same bytes: test_api.py)."""
    if case.generated:
        log = tmp / "generated.jsonl"
        generate(log, tmp / "labels.jsonl", customers=80, days=365, seed=11,
                 start=datetime(2024, 1, 1, tzinfo=UTC), noise=True)
    else:
        log = GOLDEN / f"{case.name}.jsonl"
    return churnwatch.replay(log, settings=settings, as_of=case.as_of)
