"""``churnwatch calibration``: the figures of settled risks, the verdict and the page."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import churnwatch
from churnwatch.analysis.reliability import report
from churnwatch.analysis.reliability_page import page
from churnwatch.cli import main
from churnwatch.models import calibration
from churnwatch.models.calibration import PPM, Settled
from churnwatch.settings import Settings
from churnwatch.simulate.generate import generate
from tests.analysis.test_outcome_page import browse

MONTH = 31 * 86_400  # from January 2nd: one prediction date in each calendar month
START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())


def drawn(months: range, bias: float, n: int = 400, seed: int = 1) -> list[Settled]:
    """``n`` predictions a month whose customers churn at the risk minus ``bias``."""
    rnd = random.Random(seed)
    out = []
    for month in months:
        for _ in range(n):
            risk = rnd.uniform(0.2, 0.9)
            out.append(Settled(182.0, START + month * MONTH + 86_400, round(risk * PPM),
                               churned=rnd.random() < risk - bias))
    return out


def the_verdict(settled: list[Settled]) -> str:
    [horizon] = report(settled, "m").horizons
    return horizon.verdict


def test_a_true_risk_is_said_to_agree_and_a_biased_one_by_how_much_and_since_when() -> None:
    assert the_verdict(drawn(range(12), bias=0.0)).startswith("risk agrees with")
    assert points(the_verdict(drawn(range(12), bias=0.1)),
                  "overstates", "January 2024") == pytest.approx(10, abs=2)
    drift = drawn(range(9), bias=0.0) + drawn(range(9, 12), bias=-0.08, seed=2)
    assert points(the_verdict(drift), "understates", "October 2024") == pytest.approx(8, abs=2)


def points(verdict: str, way: str, since: str) -> int:
    found = re.match(rf"risk {way} churn by (\d+) points since {since} ", verdict)
    assert found, verdict
    return int(found[1])


def test_a_small_gap_on_few_predictions_is_not_called_a_bias() -> None:
    """Never stronger than chance: 5 points off on 40 predictions is noise."""
    few = drawn(range(1), bias=0.05, n=40, seed=3)
    assert the_verdict(few).startswith("risk agrees with")


def test_the_report_per_bin_and_month_adds_up_to_the_whole() -> None:
    settled = drawn(range(6), bias=0.03)
    [h] = report(settled, "m").horizons
    assert sum(b.predictions for b in h.bins) == sum(m.figures.predictions for m in h.months) \
        == h.overall.predictions == len(settled)
    assert h.overall == calibration.of(settled)


def test_the_command_reports_what_replay_settled_and_its_page_draws(tmp_path: Path) -> None:
    log, labels = tmp_path / "log.jsonl", tmp_path / "labels.jsonl"
    generate(log, labels, customers=300, days=500, seed=6,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    out, html = tmp_path / "calibration.json", tmp_path / "calibration.html"
    done = CliRunner().invoke(main, ["calibration", str(log), "--json", str(out),
                                     "--html", str(html)])
    assert done.exit_code == 0, done.output
    settled = churnwatch.replay(log, settings=Settings.build()).settled
    assert len(settled) > 200
    [horizon] = orjson.loads(out.read_bytes())["horizons"]
    assert horizon == report(settled, "m").horizons[0].to_json()
    assert horizon["verdict"] in done.output
    dom, console, _ = browse(html, tmp_path / "profile")
    assert 'data-rendered="2"' in dom, dom[:400]
    assert console == []


def test_a_log_whose_horizons_never_closed_says_so(tmp_path: Path) -> None:
    empty = report([], "m")
    assert "no risk published" in page(empty).lower() and empty.horizons == []
