"""The outcome page renders its plots in a real browser (Debian's headless Chromium)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from churnwatch.analysis.outcome_page import HELD, TREATED, UNSURE, page
from churnwatch.analysis.outcomes import OutcomeReport, Row, Saved, outcomes
from churnwatch.analysis.svg import month_ticks
from churnwatch.models.uplift import Group, uplift
from churnwatch.settings import Settings
from churnwatch.simulate.campaign import run_campaign
from churnwatch.simulate.generate import generate

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CONSOLE = re.compile(r":CONSOLE[:(]")


def browse(html: Path, profile: Path) -> tuple[str, list[str], bytes]:
    """(the DOM once loaded, what the page wrote to the console, a screenshot)."""
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs it " \
        "(apt-get install chromium)"
    url = html.resolve().as_uri()
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}"]
    dom = subprocess.run([*common, "--enable-logging=stderr", "--v=0",
                          "--virtual-time-budget=5000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120, check=True)
    shot = profile / "shot.png"
    subprocess.run([*common, "--window-size=820,1400", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120, check=True)
    console = [line for line in dom.stderr.splitlines() if CONSOLE.search(line)]
    return dom.stdout, console, shot.read_bytes()


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_outcome_page_draws_its_three_plots_without_console_errors(
        tmp_path: Path) -> None:
    log, labels = tmp_path / "log.jsonl", tmp_path / "labels.jsonl"
    settings = Settings.build(loop={"holdout_share": 0.3})
    generate(log, labels, customers=300, days=500, seed=6,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    run_campaign(log, labels, settings, seed=6)
    html = tmp_path / "outcomes.html"
    html.write_text(page(outcomes(log, settings=settings)), encoding="utf-8")
    dom, console, shot = browse(html, tmp_path / "profile")
    assert 'data-rendered="3"' in dom, dom[:400]
    assert console == []
    assert png_size(shot) == (820, 1400)
    assert len(shot) > 20_000  # plots and text, not a blank page


def test_the_check_sees_a_broken_page(tmp_path: Path) -> None:
    """The same check on a page whose script fails and whose plot is empty: it must
    notice both, or the test above proves nothing."""
    broken = tmp_path / "broken.html"
    good = page(outcomes([], settings=Settings.build()))
    broken.write_text(good.replace('class="mark"', 'class="none"').replace(
        "</script>", "undefinedFunction();</script>"), encoding="utf-8")
    dom, console, _ = browse(broken, tmp_path / "profile")
    assert 'data-rendered="3"' not in dom
    assert any("undefinedFunction" in line for line in console)


def test_a_comparison_without_enough_alerts_is_drawn_grey_and_verdicts_come_first(
        ) -> None:
    """Before, a "not enough data" signal got coloured bars like a result (issue 38)."""
    few, many = Group(), Group()
    for n in range(40):
        many.add(n % 2 == 0, 10.0, cluster=f"c{n}")
    few.add(True, 10.0, cluster="c1")
    rows = [Row("gone_quiet", "all", "all", many, many, True, uplift(many, many)),
            Row("unfollowed", "all", "all", many, few, False, None)]
    html = page(OutcomeReport(rows, [], [], closed=81, attribution_days=30, min_group=30))
    chart = html.split('data-chart="winback"', 1)[1].split("</svg>", 1)[0]
    bars = re.findall(r'<rect class="mark"[^>]*fill="(#[0-9a-f]+)"', chart)
    assert bars == [TREATED, HELD, UNSURE, UNSURE]
    assert html.index("<h2>What to do</h2>") < html.index("<h2>Win-back rate")
    assert "<b>not enough data</b>" in html and "unfollowed <code>unfollowed</code>" in html
    assert ">gone quiet</text>" in chart and "<td>gone quiet (gone_quiet)</td>" in html


def test_month_labels_never_crowd_the_last_one() -> None:
    """Before: 27 months labelled 0, 3, ..., 24 and 26, the last two overlapping."""
    for count in range(1, 60):
        ticks = month_ticks(count)
        step = max(1, -(-count // 8))
        assert ticks[0] == 0 and ticks[-1] == count - 1
        assert all(b - a >= step for a, b in pairwise(ticks)), count
        assert len(ticks) <= 9


def test_the_cumulative_revenue_is_drawn_inside_its_interval() -> None:
    """Before, the cumulative revenue was a bare line: a dip below zero looked like a
    loss whether or not chance explained it (issue 38)."""
    saved = [Saved(f"2025-{m:02d}", 0.0, value, (value - width, value + width))
             for m, (value, width) in enumerate([(-50.0, 80.0), (20.0, 90.0), (140.0, 60.0)], 1)]
    html = page(OutcomeReport([], [], saved, closed=3, attribution_days=30, min_group=30))
    chart = html.split('data-chart="saved"', 1)[1].split("</svg>", 1)[0]
    band = re.search(r'<polygon class="band" points="([^"]+)"', chart)
    curve = re.search(r'<polyline class="mark" points="([^"]+)"', chart)
    assert band and curve
    edge = [tuple(map(float, p.split(","))) for p in band.group(1).split()]
    upper, lower = edge[:3], edge[3:][::-1]
    for (x, y), (ux, uy), (lx, ly) in zip(
            [tuple(map(float, p.split(","))) for p in curve.group(1).split()], upper, lower,
            strict=True):
        assert x == ux == lx and uy < y < ly  # SVG y grows downwards
    assert '>0</text>' in chart  # the zero line is labelled: the band crosses it
