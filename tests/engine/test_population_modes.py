"""Classification against live or fitted population statistics.

A streaming worker splits customers over partitions; each partition's detector sees the
others' statistics only when they merge. These tests do the same split in one process,
as the runtime does (every partition advanced to one shared watermark, statistics merged
across partitions), so the difference is the statistics' alone.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from churnwatch.analysis.fit import fit_log
from churnwatch.engine import Detector
from churnwatch.errors import UserError
from churnwatch.models.events import AnyEvent
from churnwatch.models.population import Population
from churnwatch.replayer import valid_events
from churnwatch.settings import Settings
from churnwatch.settings.environment import load
from churnwatch.simulate.generate import generate

PARTITIONS = 4


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[AnyEvent], Path]:
    """A generated log and a model (with its population) fitted on it."""
    tmp = tmp_path_factory.mktemp("fitted")
    log = tmp / "log.jsonl"
    generate(log, tmp / "labels.jsonl", customers=150, days=300, seed=11,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    model = tmp / "model.json"
    model.write_bytes(fit_log(log, Settings.build(), horizon_weeks=13).dump())
    return list(valid_events(log)), model


def settings(mode: str, model: Path) -> Settings:
    return Settings.build(detection={"population": {"mode": mode, "refresh_every": 50}},
                          risk={"params_file": model})


def one_detector(events: list[AnyEvent], s: Settings) -> set[bytes]:
    d = Detector(s)
    out = []
    for e in events:
        d.ingest(e)
        out += d.advance()
    out += d.finish()
    return {a.json() for a in out}


def partitioned(events: list[AnyEvent], s: Settings, restart_at: int | None = None
                ) -> set[bytes]:
    """What a worker owning every partition does; ``restart_at``: states re-read from
    their bytes after that many events, as after a crash."""
    parts = [Detector(s) for _ in range(PARTITIONS)]

    def merged() -> object:
        return Population().merged([p.population for p in parts]).view()

    for p in parts:
        p.view_provider = merged  # type: ignore[assignment]
    out, newest = [], float("-inf")
    for i, e in enumerate(events):
        if i == restart_at:
            parts = [_restarted(p, s) for p in parts]
            for p in parts:
                p.view_provider = merged  # type: ignore[assignment]
                p.refresh_view()
        part = parts[zlib.crc32(e.customer_id.encode()) % PARTITIONS]
        part.ingest(e)
        newest = max(newest, e.ts)
        for p in parts:
            out += p.advance(newest - p.lateness)
    for p in parts:
        out += p.finish(newest)
    return {a.json() for a in out}


def _restarted(old: Detector, s: Settings) -> Detector:
    new = Detector(s)
    new.restore((cid, state.to_bytes()) for cid, state in old.states.items())
    return new


def test_with_fitted_statistics_partitions_and_restarts_change_no_alert(
        fitted: tuple[list[AnyEvent], Path]) -> None:
    events, model = fitted
    s = settings("fitted", model)
    whole = one_detector(events, s)
    assert len(whole) > 250
    assert partitioned(events, s) == whole
    assert partitioned(events, s, restart_at=len(events) // 2) == whole


def test_with_live_statistics_the_split_changes_segment_alerts_only(
        fitted: tuple[list[AnyEvent], Path]) -> None:
    """Why the fitted mode exists: the same split in live mode moves segment_at_risk
    alerts (and what follows from them for that customer), which proves the split above
    is a real test."""
    events, model = fitted
    s = settings("live", model)
    whole, split = one_detector(events, s), partitioned(events, s)
    differing = whole ^ split
    assert differing
    assert any(b'"segment_at_risk"' in a for a in differing)


def test_fitted_mode_needs_a_model_with_a_population_taken_with_the_same_window(
        fitted: tuple[list[AnyEvent], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, model = fitted
    monkeypatch.setenv("CHURNWATCH_DETECTION__POPULATION__MODE", "fitted")
    with pytest.raises(UserError, match=r"needs risk\.params_file"):
        load()
    monkeypatch.setenv("CHURNWATCH_RISK__PARAMS_FILE", str(model))
    monkeypatch.setenv("CHURNWATCH_DETECTION__WINDOW_DAYS", "180")
    with pytest.raises(UserError, match=r"window_days is 180.*taken with 365"):
        load()
    monkeypatch.delenv("CHURNWATCH_DETECTION__WINDOW_DAYS")
    assert load()[0].detection.population.mode == "fitted"
