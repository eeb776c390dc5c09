"""``churnwatch fit --recalibrate``: a monotone map of the risk fitted to settled risks."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import churnwatch
from churnwatch.analysis.recalibrate import mapped_risk
from churnwatch.cli import main
from churnwatch.models import calibration
from churnwatch.models.calibration import PPM, Settled
from churnwatch.models.params import load
from churnwatch.settings import Settings
from churnwatch.simulate.generate import generate


def generated(tmp: Path, customers: int, days: int) -> Path:
    log = tmp / "log.jsonl"
    generate(log, tmp / "labels.jsonl", customers=customers, days=days, seed=3,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    return log


def test_platt_finds_the_map_the_outcomes_were_drawn_with() -> None:
    rnd = random.Random(4)
    settled = []
    for n in range(20_000):
        risk = rnd.uniform(0.05, 0.95)
        z = 0.7 * math.log(risk / (1 - risk)) - 0.4  # what customers really do
        settled.append(Settled(91.0, n, round(risk * PPM), rnd.random() < 1 / (1 + math.exp(-z))))
    slope, offset = calibration.platt(settled)
    assert slope == pytest.approx(0.7, abs=0.05) and offset == pytest.approx(-0.4, abs=0.05)
    mapped = [mapped_risk(s, slope, offset) for s in settled]
    before, after = calibration.of(settled), calibration.of(mapped)
    assert after.ece < 0.015 < before.ece
    assert before.auc is not None and after.auc == pytest.approx(before.auc, abs=0.002)


def test_the_command_writes_the_current_model_with_a_map_the_scores_then_use(
        tmp_path: Path) -> None:
    log = generated(tmp_path, customers=400, days=500)
    out = tmp_path / "recalibrated.json"
    done = CliRunner().invoke(main, ["fit", str(log), "--out", str(out), "--recalibrate",
                                     "--since", "2024-01-01"])
    assert done.exit_code == 0, done.output
    doc = load(out)  # sealed: its version matches its content
    c = doc.recalibration
    assert c is not None and c.predictions >= 100 and c.ece_after <= c.ece_before
    assert doc.version in done.output and f"ECE {c.ece_before:.3f} -> {c.ece_after:.3f}" \
        in done.output
    plain = churnwatch.replay(log, settings=Settings.build())
    remapped = churnwatch.replay(log, settings=Settings.build(risk={"params_file": out}))
    assert [a.id for a in remapped.alerts] == [a.id for a in plain.alerts]  # same alerts
    for old, new in zip(plain.alerts, remapped.alerts, strict=True):
        if old.data.risk is not None:
            settled = Settled(0, 0, round(old.data.risk * PPM), False)
            # from the shown risk, rounded to four decimals: one unit of the last may differ
            assert new.data.risk == pytest.approx(
                mapped_risk(settled, c.slope, c.offset).risk, abs=1.01e-4)
    assert orjson.loads(out.read_bytes())["risk"] == orjson.loads(
        Settings.build().risk.doc().dump())["risk"]  # not refitted


def test_too_few_settled_risks_or_a_window_without_recalibrate_are_refused(
        tmp_path: Path) -> None:
    log = generated(tmp_path, customers=20, days=120)
    out = tmp_path / "m.json"
    few = CliRunner().invoke(main, ["fit", str(log), "--out", str(out), "--recalibrate"])
    assert few.exit_code == 1 and "at least 100 are needed" in few.output
    lone = CliRunner().invoke(main, ["fit", str(log), "--out", str(out), "--since", "2024-01-01"])
    assert lone.exit_code == 2 and "--since and --until go with --recalibrate" in lone.output
    assert not out.exists()
