"""Risk evaluation for BENCHMARKS.md: CDNOW sample and master at several cutoffs, and a
generated labelled log. Run with ``make evaluate`` (downloads the CDNOW master first)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
DATA = ROOT / "data" / "cdnow"
CLI = [sys.executable, "-m", "churnwatch.cli"]

# The design cutoff (1997-09-30, 39 weeks) chose the method; the others only report it.
RUNS = [
    ("cdnow_sample", "1997-09-30", 39),
    ("cdnow_sample", "1997-06-30", 39),
    ("cdnow_sample", "1997-12-31", 25),
    ("cdnow_master", "1997-09-30", 39),
    ("cdnow_master", "1997-06-30", 39),
    ("cdnow_master", "1997-12-31", 25),
    ("generated", "2025-01-01", 13),
]


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    sample = DATA / "cdnow_sample.jsonl"
    subprocess.run([*CLI, "cdnow", str(ROOT / "tests/data/cdnow/CDNOW_sample.txt"),
                    str(sample)], check=True)
    generated = DATA / "generated.jsonl"
    subprocess.run([*CLI, "generate", "--out", str(generated), "--customers", "6000",
                    "--days", "540", "--seed", "7"], check=True)
    for name, cutoff, weeks in RUNS:
        print(f"$ churnwatch evaluate {name}.jsonl --cutoff {cutoff} --horizon-weeks {weeks}",
              flush=True)
        subprocess.run([*CLI, "evaluate", str(DATA / f"{name}.jsonl"), "--cutoff", cutoff,
                        "--horizon-weeks", str(weeks)], check=True)
        print(flush=True)


if __name__ == "__main__":
    main()
