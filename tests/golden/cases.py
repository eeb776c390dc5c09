"""The golden replay cases: a hand-written sample log and a seeded generated one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from churnwatch.config import Settings
from churnwatch.generate import generate
from churnwatch.replay import replay_files

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


def run_case(case: Case, tmp: Path) -> dict[str, bytes]:
    """Replay the case's log; return its outputs by golden file name."""
    if case.generated:
        log = tmp / "generated.jsonl"
        generate(log, tmp / "labels.jsonl", customers=80, days=365, seed=11,
                 start=datetime(2024, 1, 1, tzinfo=UTC), noise=True)
    else:
        log = GOLDEN / f"{case.name}.jsonl"
    as_of = datetime.fromisoformat(case.as_of).timestamp() if case.as_of else None
    out = {k: tmp / f"{case.name}.{k}.jsonl" for k in ("alerts", "customers", "dead-letter")}
    replay_files(log, out["alerts"], out["customers"], settings=Settings(), as_of=as_of,
           dead_letter=out["dead-letter"], progress=False)
    return {p.name: p.read_bytes() for p in out.values()}
