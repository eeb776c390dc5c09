"""Replay throughput on a matrix of log shapes. The slowest shape is the figure that counts:
a backfill is as slow as its worst stretch, and tuning on one shape hides the others.

    python bench/replay_matrix.py [--shape NAME ...] [--random N] [--random-seed S]
                                  [--compiled DIR]

Each shape is a whole seeded generated log (noise on: duplicates, reordering, invalid
lines), some with engagement actions left out; ``random_arrivals`` has no customer model
at all (each event's customer and values drawn at random: an alert every 5-6 events).
Whole, not cut: the first lines of a log are its first days, before anyone has had time
to drift. Timed: all of ``churnwatch replay``
(read, validate, detect, score, write alerts and customers). ``--random N`` adds N shapes
drawn from a generator seeded at run time (printed; ``--random-seed`` repeats a draw),
so that the slowest shape is one nobody chose, let alone tuned for.

Each shape is timed in fresh processes: the decode floor (reading and validating every
line, nothing else), the pure Python build and, with ``--compiled DIR`` (``make
compiled``), the compiled build, whose outputs must be byte-identical to the pure one's.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from churnwatch.engine import detector
from churnwatch.replayer import replay_files, valid_events
from churnwatch.settings import Settings
from churnwatch.simulate.generate import generate, utc_seconds


@dataclass(frozen=True)
class Shape:
    customers: int
    days: int
    leave_out: tuple[str, ...] = ()
    """engagement actions dropped from the generated log"""
    thin: int = 1
    """keep one line in ``thin`` (by a hash of the line): customers seen rarely, whose
    every event comes after a long gap, and offers whose redemption is missing"""
    why: str = ""
    arrivals: int = 0
    """if set, not the generator's customers but this many events, each for a customer
    drawn at random (``random_arrivals``)"""


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
    "sparse_year": Shape(25_000, 365, thin=6, why="shop_year with one line in six kept: "
                         "every kind mixed, sparse customers, an alert every ~9 events"),
    "random_arrivals": Shape(25_000, 365, arrivals=500_000,
                             why="no customer model: each event's customer, kind, amount and "
                                 "score drawn at random; an alert every 5-6 events"),
}
ACTIONS = ("visit", "community_post", "promotion_offered", "follow", "unfollow", "survey")


def random_shapes(n: int, seed: int) -> dict[str, Shape]:
    """``n`` shapes from a seeded draw: 300 to 30,000 customers, 30 to 1,460 days, each
    engagement action kept or left out at even odds, one line in 1, 2, 4 or 8 kept; about
    100,000-400,000 lines before what is left out (the generator writes about 0.3 lines
    per customer and day)."""
    rng = random.Random(seed)
    shapes = {}
    for i in range(n):
        days = rng.randint(30, 1460)
        customers = max(300, min(30_000, int(rng.uniform(1e5, 4e5) / (0.3 * days))))
        leave = tuple(a for a in ACTIONS if rng.random() < 0.5)
        thin = rng.choice((1, 2, 4, 8))
        shapes[f"random_{seed}_{i}"] = Shape(customers * thin, days, leave, thin,
                                              why=f"drawn: {customers * thin} x {days} days, "
                                                  f"1 line in {thin}")
    return shapes


def random_arrivals(log: Path, shape: Shape, seed: int = 7) -> None:
    """A log with no customer model behind it: every event picks its customer, kind and
    values at random, so baskets swing, offers lapse and complaints escalate all the time
    (the alert-heavy shape issue 39 asked for). In time order, no noise."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    times = sorted(start + rng.random() * shape.days * 86_400 for _ in range(shape.arrivals))
    kinds = ("order", "visit", "promotion_offered", "complaint", "survey", "follow",
             "unfollow", "community_post")
    weights = (42, 32, 5, 5, 4, 4, 1, 7)
    with log.open("w") as out:
        for n, t in enumerate(times):
            cid = f"c{rng.randrange(shape.customers)}"
            kind = rng.choices(kinds, weights)[0]
            head = (f'"event_id":"e{n}","customer_id":"{cid}",'
                    f'"occurred_at":"{utc_seconds(t)}"')
            if kind == "order":
                body = (f'"kind":"order",{head},"order_id":"o{n}",'
                        f'"amount":{rng.lognormvariate(4, 0.5):.2f},"currency":"EUR"')
            elif kind == "complaint":
                severity = rng.choice(("inquiry", "minor", "major", "refund_request",
                                       "exchange_request"))
                body = (f'"kind":"complaint",{head},"ticket_id":"{cid}-t{rng.randrange(3)}",'
                        f'"severity":"{severity}",'
                        f'"status":"{rng.choice(("opened", "updated", "resolved"))}"')
            elif kind == "promotion_offered":
                body = (f'"kind":"engagement",{head},"action":"promotion_offered",'
                        f'"promotion_id":"p{n}","expires_at":"{utc_seconds(t + 10 * 86_400)}"')
            elif kind == "survey":
                score = rng.choice((3, 6, 7, 8, 9, 9, 10, 10))
                body = f'"kind":"engagement",{head},"action":"survey","score":{score}'
            else:
                body = f'"kind":"engagement",{head},"action":"{kind}"'
            out.write("{" + body + "}\n")


def build(shape: Shape, tmp: Path) -> Path:
    if shape.arrivals:
        random_arrivals(tmp / "log.jsonl", shape)
        return tmp / "log.jsonl"
    raw = tmp / "generated.jsonl"
    generate(raw, tmp / "labels.jsonl", customers=shape.customers, days=shape.days, seed=7,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=True)
    dropped = tuple(f'"action":"{a}"'.encode() for a in shape.leave_out)
    log = tmp / "log.jsonl"
    with raw.open("rb") as src, log.open("wb") as out:
        out.writelines(line for line in src if not any(d in line for d in dropped)
                       and zlib.crc32(line) % shape.thin == 0)
    raw.unlink()
    return log


def orders_share(log: Path) -> float:
    lines = orders = 0
    with log.open("rb") as src:
        for line in src:
            lines += 1
            orders += b'"kind":"order"' in line
    return orders / lines


def timed(log: Path, out: Path | None, site: str | None = None) -> dict[str, float]:
    """One replay of ``log`` writing into ``out`` (None: its decode alone) in a fresh
    process; ``site``: put the compiled build there first on the path."""
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (site, env.get("PYTHONPATH"))))
    child = ["--decode", str(log)] if out is None else ["--time", str(log), str(out)]
    run = subprocess.run([sys.executable, __file__, *child],
                         check=True, capture_output=True, text=True, env=env,
                         cwd=tempfile.gettempdir())  # not the repository: it holds the source
    return dict(json.loads(run.stdout))


def decode_one(log: Path) -> None:
    """A child of ``timed``: reads and validates every line, nothing else."""
    began = time.perf_counter()
    lines = sum(1 for _ in valid_events(log))
    print(json.dumps({"seconds": time.perf_counter() - began, "lines": lines}))


def time_one(log: Path, out: Path) -> None:
    """A child of ``timed``: one whole replay; prints what it measured as JSON."""
    report = replay_files(log, out / "alerts.jsonl", out / "customers.jsonl",
                          settings=Settings(), progress=False)
    print(json.dumps({"seconds": report.seconds, "lines": report.counts.lines,
                      "customers": report.counts.customers,
                      "alerts": report.counts.total_alerts,
                      "compiled": not str(detector.__file__).endswith(".py")}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", action="append", choices=sorted(SHAPES))
    ap.add_argument("--random", type=int, default=0, help="add N randomly drawn shapes")
    ap.add_argument("--random-seed", type=int, default=None,
                    help="seed of the drawn shapes (default: drawn at run time, printed)")
    ap.add_argument("--compiled", metavar="DIR",
                    help="the unpacked compiled build (make compiled): time it too")
    ap.add_argument("--time", nargs=2, type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--decode", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.time:
        time_one(*args.time)
        return
    if args.decode:
        decode_one(args.decode)
        return
    seed = random.SystemRandom().randrange(1 << 16) if args.random_seed is None \
        else args.random_seed
    drawn = random_shapes(args.random, seed)
    if drawn:
        print(f"random shapes drawn with --random-seed {seed}")
    shapes = {**SHAPES, **drawn}
    rows = []
    print("| shape | lines | customers | orders | events per alert | decode floor/s | "
          "pure Python/s | compiled/s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in [*(args.shape or SHAPES), *drawn]:
        with tempfile.TemporaryDirectory() as tmp:
            log = build(shapes[name], Path(tmp))
            floor = timed(log, None)
            (Path(tmp) / "pure").mkdir()
            pure = timed(log, Path(tmp) / "pure")
            assert not pure["compiled"], "the pure run loaded a compiled core"
            compiled_rate = "-"
            if args.compiled:
                (Path(tmp) / "compiled").mkdir()
                comp = timed(log, Path(tmp) / "compiled", str(Path(args.compiled).resolve()))
                assert comp["compiled"], f"{args.compiled} holds no compiled core"
                for kind in ("alerts.jsonl", "customers.jsonl"):
                    assert filecmp.cmp(Path(tmp) / "pure" / kind, Path(tmp) / "compiled" / kind,
                                       shallow=False), f"{name}: compiled {kind} differ"
                compiled_rate = f"{comp['lines'] / comp['seconds']:,.0f}"
                rows.append((comp["lines"] / comp["seconds"], name, "compiled"))
            rate = pure["lines"] / pure["seconds"]
            per_alert = pure["lines"] / max(1, pure["alerts"])
            print(f"| {name} | {pure['lines']:,.0f} | {pure['customers']:,.0f} | "
                  f"{orders_share(log):.0%} | {per_alert:,.0f} | "
                  f"{floor['lines'] / floor['seconds']:,.0f} | {rate:,.0f} | {compiled_rate} |",
                  flush=True)
            rows.append((rate, name, "pure Python"))
    for build_name in ("pure Python", "compiled"):
        mine = [row for row in rows if row[2] == build_name]
        if mine:
            rate, name, _ = min(mine)
            print(f"slowest, {build_name}: {name}, {rate:,.0f} events/s")


if __name__ == "__main__":
    main()
