"""Replay throughput on a matrix of log shapes. The slowest shape is the figure that counts:
a backfill is as slow as its worst stretch, and tuning on one shape hides the others.

    python bench/replay_matrix.py [--shape NAME ...] [--random N] [--random-seed S]

Each shape is a whole seeded generated log (noise on: duplicates, reordering, invalid
lines), some with engagement actions left out. Whole, not cut: the first lines of a log are
its first days, before anyone has had time to drift. Timed: all of ``churnwatch replay``
(read, validate, detect, score, write alerts and customers). ``--random N`` adds N shapes
drawn from a seeded generator (customers, days, actions left out), so that the slowest
shape is one nobody chose, let alone tuned for.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from churnwatch.config import Settings
from churnwatch.engine import replay_files
from churnwatch.generate import generate


@dataclass(frozen=True)
class Shape:
    customers: int
    days: int
    leave_out: tuple[str, ...] = ()
    """engagement actions dropped from the generated log"""
    why: str = ""


SHAPES = {
    "long_histories": Shape(500, 1460, why="few customers, four years each"),
    "many_short": Shape(25_000, 30, why="many customers, a month each"),
    "engagement_heavy": Shape(2_000, 365, why="the generator's mix: 3/4 engagement"),
    "order_heavy": Shape(7_000, 365, ("visit", "community_post"),
                         why="visits and posts left out: over half orders"),
    "high_alert_rate": Shape(30_000, 120, ("visit", "community_post", "promotion_offered"),
                             why="four months, 80 % orders: an alert every ~12 events"),
    "shop_year": Shape(25_000, 365, why="every event kind, offers with expiries, "
                       "complaints of every severity; 25,000 customers over a year"),
}
ACTIONS = ("visit", "community_post", "promotion_offered", "follow", "unfollow", "survey")


def random_shapes(n: int, seed: int) -> dict[str, Shape]:
    """``n`` shapes from a seeded draw: 300 to 30,000 customers, 30 to 1,460 days, each
    engagement action kept or left out at even odds; about 100,000-400,000 lines before
    what is left out (the generator writes about 0.3 lines per customer and day)."""
    rng = random.Random(seed)
    shapes = {}
    for i in range(n):
        days = rng.randint(30, 1460)
        customers = max(300, min(30_000, int(rng.uniform(1e5, 4e5) / (0.3 * days))))
        leave = tuple(a for a in ACTIONS if rng.random() < 0.5)
        shapes[f"random_{seed}_{i}"] = Shape(customers, days, leave,
                                              why=f"drawn: {customers} x {days} days")
    return shapes


def build(shape: Shape, tmp: Path) -> Path:
    raw = tmp / "generated.jsonl"
    generate(raw, tmp / "labels.jsonl", customers=shape.customers, days=shape.days, seed=7,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=True)
    dropped = tuple(f'"action":"{a}"'.encode() for a in shape.leave_out)
    log = tmp / "log.jsonl"
    with raw.open("rb") as src, log.open("wb") as out:
        out.writelines(line for line in src if not any(d in line for d in dropped))
    raw.unlink()
    return log


def orders_share(log: Path) -> float:
    lines = orders = 0
    with log.open("rb") as src:
        for line in src:
            lines += 1
            orders += b'"kind":"order"' in line
    return orders / lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", action="append", choices=sorted(SHAPES))
    ap.add_argument("--random", type=int, default=0, help="add N randomly drawn shapes")
    ap.add_argument("--random-seed", type=int, default=1)
    args = ap.parse_args()
    drawn = random_shapes(args.random, args.random_seed)
    shapes = {**SHAPES, **drawn}
    rows = []
    print("| shape | lines | customers | orders | events per alert | seconds | events/s |")
    print("|---|---|---|---|---|---|---|")
    for name in [*(args.shape or SHAPES), *drawn]:
        with tempfile.TemporaryDirectory() as tmp:
            log = build(shapes[name], Path(tmp))
            report = replay_files(log, Path(tmp) / "a.jsonl", Path(tmp) / "c.jsonl",
                                  settings=Settings(), progress=False)
            counts, rate = report.counts, report.events_per_second
            per_alert = counts.lines / max(1, counts.total_alerts)
            print(f"| {name} | {counts.lines:,} | {counts.customers:,} | "
                  f"{orders_share(log):.0%} | {per_alert:,.0f} | {report.seconds:.1f} | "
                  f"{rate:,.0f} |", flush=True)
            rows.append((rate, name))
    rate, name = min(rows)
    print(f"\nslowest: {name}, {rate:,.0f} events/s")


if __name__ == "__main__":
    main()
