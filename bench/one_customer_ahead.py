"""What one customer whose clock runs ahead does to everyone else's alerts (RELIABILITY.md).

A generated shop log, and the same log with one customer's orders dated ``--ahead-days``
after the log's start mixed in at random positions. Counts every other customer's alerts
lost, false (new) and changed, and the events refused as late, with fitted population
statistics so that nothing else can differ. Runs on any version of the code.

    .venv/bin/python bench/one_customer_ahead.py [--customers 400 --days 200 --orders 836]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

import churnwatch
from churnwatch.analysis.fit import fit_log
from churnwatch.settings import Settings
from churnwatch.simulate.generate import generate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--orders", type=int, default=836)
    parser.add_argument("--ahead-days", type=int, default=425)  # 2025-03-01
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "shop.jsonl"
        generate(log, Path(tmp) / "labels.jsonl", customers=args.customers, days=args.days,
                 seed=args.seed, start=start, noise=True)
        model = Path(tmp) / "model.json"
        model.write_bytes(fit_log(log, Settings.build(), horizon_weeks=13).dump())
        settings = Settings.build(detection={"population": {"mode": "fitted"}},
                                  risk={"params_file": model})
        clean = log.read_bytes().splitlines()
        when = start + timedelta(days=args.ahead_days)
        rng = random.Random(args.seed)
        mixed = list(clean)
        for n in range(args.orders):
            mixed.insert(rng.randrange(1, len(mixed)), orjson.dumps({
                "kind": "order", "event_id": f"fast-{n}", "customer_id": "fast",
                "order_id": f"fast-{n}", "amount": 25.0,
                "occurred_at": (when + timedelta(minutes=n)).isoformat()}))
        as_of = start + timedelta(days=args.days + 30)
        before = churnwatch.replay(clean, settings=settings, as_of=as_of)
        after = churnwatch.replay(mixed, settings=settings, as_of=as_of)
    want = {a.id: a.model_dump_json() for a in before.alerts}
    got = {a.id: a.model_dump_json() for a in after.alerts if a.subject != "fast"}
    changed = sum(want[i] != got[i] for i in want.keys() & got.keys())
    print(f"log: {len(clean):,} lines, {args.customers} customers, {args.days} days; "
          f"{args.orders} orders of one customer dated {when.date()} mixed in")
    print(f"other customers' alerts: {len(want):,} in the clean log, {len(got):,} with it; "
          f"lost {len(want.keys() - got.keys()):,}, false {len(got.keys() - want.keys()):,}, "
          f"changed {changed:,}")
    print(f"refused as late: {before.counts.late:,} in the clean log, {after.counts.late:,} "
          f"with it; out of time: {after.counts.out_of_time:,}; its own alerts: "
          f"{len(after.alerts) - len(got):,}")


if __name__ == "__main__":
    main()
