"""Hostile input through replay: no crash, every bad line dead-lettered with its original
bytes, and the clean log's alerts and customers byte for byte."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

import churnwatch
from churnwatch.simulate.generate import generate
from tests.support.hostile import HOSTILE, corpus, original


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    tmp = tmp_path_factory.mktemp("clean")
    log = tmp / "log.jsonl"
    generate(log, tmp / "labels.jsonl", customers=60, days=240, seed=9,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    return log.read_bytes().splitlines()


def test_every_kind_of_hostile_line_is_refused_on_its_own() -> None:
    for name, raw in HOSTILE.items():
        result = churnwatch.replay([raw])
        assert len(result.dead_letters) == 1, name
        assert result.dead_letters[0].raw == raw, name
        assert result.alerts == [] and result.customers == [], name


HOSTILE_LINES = 100_000


def test_100_000_hostile_lines_change_nothing_and_memory_stays_bounded(
        clean: list[bytes], tmp_path: Path) -> None:
    """The command line, as a user runs it, on the clean log and on the same log with
    100,000 hostile lines (a few of 1-3 MB) mixed in: the same alerts and customers byte
    for byte, every hostile line dead-lettered with its bytes, and peak memory within a
    few huge lines of the clean run's."""
    rng = random.Random(13)
    mixed: list[bytes] = list(clean)
    for raw in corpus(clean, HOSTILE_LINES, seed=13, huge=5):
        mixed.insert(rng.randrange(1, len(mixed)), raw)
    (tmp_path / "clean.jsonl").write_bytes(b"\n".join(clean) + b"\n")
    (tmp_path / "mixed.jsonl").write_bytes(b"\n".join(mixed) + b"\n")
    clean_peak = _replay(tmp_path, "clean")
    mixed_peak = _replay(tmp_path, "mixed")

    for output in ("alerts", "customers"):
        assert (tmp_path / f"mixed.{output}").read_bytes() == \
            (tmp_path / f"clean.{output}").read_bytes()
    rows = [orjson.loads(line) for line in (tmp_path / "mixed.dl").read_bytes().splitlines()]
    assert len(rows) == HOSTILE_LINES
    for row in rows:
        assert original(row) == mixed[row["line"] - 1]
        assert row["reason"]
    assert mixed_peak < clean_peak + 64 * 2**20, (mixed_peak, clean_peak)


def _replay(tmp: Path, name: str) -> int:
    """Run ``churnwatch replay`` on NAME.jsonl; its peak resident memory in bytes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "churnwatch.cli", "replay", str(tmp / f"{name}.jsonl"),
         "--alerts", str(tmp / f"{name}.alerts"), "--customers", str(tmp / f"{name}.customers"),
         "--dead-letter", str(tmp / f"{name}.dl")], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return usage.ru_maxrss * 1024  # kilobytes on Linux
