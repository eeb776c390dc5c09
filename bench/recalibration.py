"""Recalibration on CDNOW for BENCHMARKS.md (``make cdnow`` first): the risk fitted at a
cutoff for a horizon longer than its history could train (the extrapolated horizon),
followed live on the whole log, then recalibrated from the risks made before a later
point and judged on the risks made after it, which it never saw.

    python bench/recalibration.py [--cutoff 1997-09-30] [--weeks 39] [--split 1997-07-01]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from churnwatch.analysis.fit import fit_log
from churnwatch.analysis.recalibrate import recalibrate
from churnwatch.models import calibration
from churnwatch.models.calibration import Figures, Settled
from churnwatch.replayer import replay
from churnwatch.settings import Settings

LOG = Path(__file__).parents[1] / "data" / "cdnow" / "cdnow_master.jsonl"


def day(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def line(name: str, f: Figures) -> str:
    return (f"{name:<34} {f.predictions:>7,}  predicted {f.mean_predicted:.3f}  churned "
            f"{f.observed:.3f}  ECE {f.ece:.3f}  Brier {f.brier:.4f}  AUC {f.auc:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cutoff", default="1997-09-30")
    parser.add_argument("--weeks", type=float, default=39)
    parser.add_argument("--split", default="1997-07-01")
    args = parser.parse_args()
    split = day(args.split)
    with tempfile.TemporaryDirectory() as tmp:
        fitted, remapped = Path(tmp) / "fitted.json", Path(tmp) / "recalibrated.json"
        settings = Settings.build(risk={"params_file": fitted})
        fitted.write_bytes(fit_log(LOG, settings.changed("risk", params_file=None),
                                   args.weeks, day(args.cutoff) + 86_400).dump())
        done = recalibrate(LOG, settings, made_to=split, made_from=0)
        remapped.write_bytes(done.doc.dump())
        before = replay(LOG, settings=settings).settled
        after = replay(LOG, settings=settings.changed("risk", params_file=remapped)).settled

    def later(settled: list[Settled]) -> list[Settled]:
        return [s for s in settled if s.made_at >= split]

    c = done.doc.recalibration
    assert c is not None
    print(f"fitted at {args.cutoff} for {args.weeks:g} weeks; map log-odds x {c.slope:.4f} "
          f"{c.offset:+.4f} from {c.predictions:,} risks made before {args.split}")
    print(line("made before the split, as fitted", done.before))
    print(line("made before the split, remapped", done.after))
    print(line(f"made from {args.split}, as fitted", calibration.of(later(before))))
    print(line(f"made from {args.split}, remapped", calibration.of(later(after))))


if __name__ == "__main__":
    main()
