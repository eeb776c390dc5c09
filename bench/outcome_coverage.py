"""How often the outcome report's 95 % intervals hold the simulated campaign's true uplift.

For each seed: generate a log, play the simulated campaign on it (churnwatch/simulate/campaign.py),
report outcomes (churnwatch/analysis/outcomes.py), and compare each signal's interval (all tiers)
with the true uplift in the labels. With ``--placebo`` every action has no effect, so the
true uplift is 0 everywhere and every interval that excludes 0 is a false finding.

    python bench/outcome_coverage.py --seeds 1-10 [--customers 800] [--placebo]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from churnwatch.analysis.outcomes import outcomes
from churnwatch.settings import Settings
from churnwatch.simulate.campaign import EFFECTS, run_campaign
from churnwatch.simulate.generate import generate


def seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seeds, default=seeds("1-10"))
    parser.add_argument("--customers", type=int, default=800)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--holdout", type=float, default=0.5)
    parser.add_argument("--placebo", action="store_true")
    args = parser.parse_args()
    settings = Settings.build(loop={"holdout_share": args.holdout})
    effects = dict.fromkeys(EFFECTS, 0.0) if args.placebo else EFFECTS
    covered = judged = 0
    for seed in args.seeds:
        began = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            log, labels = Path(tmp) / "log.jsonl", Path(tmp) / "labels.jsonl"
            generate(log, labels, customers=args.customers, days=args.days, seed=seed,
                     start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
            run_campaign(log, labels, settings, seed, effects)
            truth = orjson.loads(labels.read_bytes().splitlines()[-1])["campaign"]["signals"]
            report = outcomes(log, settings=settings)
        misses = []
        for row in report.rows:
            if row.tier != "all" or row.action != "all" or row.uplift is None:
                continue
            true = truth[row.signal]["true_uplift"]
            lo, hi = row.uplift.interval
            judged += 1
            if lo <= true <= hi:
                covered += 1
            else:
                misses.append(f"{row.signal} {true:+.3f} not in [{lo:+.3f}, {hi:+.3f}]")
        print(f"seed {seed}: {time.perf_counter() - began:.0f} s; "
              f"{'; '.join(misses) or 'all covered'}", flush=True)
    print(f"covered {covered} of {judged} intervals ({covered / max(judged, 1):.0%}); "
          f"{'placebo' if args.placebo else 'campaign'}, {args.customers} customers, "
          f"{args.days} days, holdout {args.holdout:.0%}, seeds {args.seeds[0]}-{args.seeds[-1]}")


if __name__ == "__main__":
    main()
