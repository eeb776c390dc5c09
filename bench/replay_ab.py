"""CPU of ``churnwatch replay`` on one log for two checkouts, interleaved: the A/B figure for
a change to the engine (outputs are written and thrown away).

    python bench/replay_ab.py LOG OLD_TREE NEW_TREE [--pairs 5] [--calls]

Each run is a fresh process with ``PYTHONPATH`` at a tree (a ``git worktree``), timed
with ``process_time``; pairs alternate old and new so that load drifts hit both. Under
load the spread is wide: the fastest run of each is the steadier figure. ``--calls``
also counts Python calls under cProfile, once per tree: deterministic, load or not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

RUN = """
import cProfile, pstats, sys, tempfile, time
from pathlib import Path
from churnwatch.replayer import replay_files
from churnwatch.settings import Settings
calls = sys.argv[2] == "calls"
profile = cProfile.Profile() if calls else None
with tempfile.TemporaryDirectory() as out:
    began = time.process_time()
    if profile:
        profile.enable()
    replay_files(Path(sys.argv[1]), Path(out) / "a", Path(out) / "c",
                 settings=Settings.build(), progress=False)
    if profile:
        profile.disable()
    print(pstats.Stats(profile).total_calls if profile else time.process_time() - began)
"""


def run(tree: Path, log: Path, mode: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", RUN, str(log), mode], env=env, cwd="/",
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("log", type=Path)
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--calls", action="store_true")
    args = ap.parse_args()
    times: dict[str, list[float]] = {"old": [], "new": []}
    for n in range(args.pairs):
        for name in ("old", "new"):
            times[name].append(run(getattr(args, name), args.log.resolve(), "time"))
            print(f"pair {n + 1} {name}: {times[name][-1]:.2f} s", flush=True)
    for how, pick in (("fastest", min), ("median", statistics.median)):
        old, new = pick(times["old"]), pick(times["new"])
        print(f"{how}: old {old:.2f} s, new {new:.2f} s, new/old {new / old:.3f}")
    if args.calls:
        old, new = (run(getattr(args, name), args.log.resolve(), "calls")
                    for name in ("old", "new"))
        print(f"calls: old {old:,.0f}, new {new:,.0f}, new/old {new / old:.3f}")


if __name__ == "__main__":
    main()
