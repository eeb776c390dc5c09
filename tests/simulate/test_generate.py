"""The generator writes as it goes (sorted runs spilled to disk, then merged) and gives
the bytes one in-memory sort gives: the goldens and every benchmark log depend on it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from churnwatch.simulate import generate as module
from churnwatch.simulate.generate import generate


def _made(tmp: Path, name: str) -> tuple[bytes, bytes]:
    log, labels = tmp / f"{name}.jsonl", tmp / f"{name}.labels.jsonl"
    generate(log, labels, customers=120, days=300, seed=8,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=True)
    return log.read_bytes(), labels.read_bytes()


def test_spilling_runs_to_disk_gives_the_bytes_of_one_sort(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "CHUNK", 10**9)  # everything in one sorted run
    whole = _made(tmp_path, "whole")
    monkeypatch.setattr(module, "CHUNK", 997)  # 12 runs on disk
    assert len(whole[0].splitlines()) > 12_000
    assert _made(tmp_path, "spilled") == whole
