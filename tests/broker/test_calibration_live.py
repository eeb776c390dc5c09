"""Is the risk still true, live: a worker's calibration counters are what replay settles."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import churnwatch
from churnwatch.models import calibration
from churnwatch.models.calibration import BINS, PPM, Bin, Calibration, bin_label
from churnwatch.tools.produce import produce, read_lines
from tests.support.cluster import Cluster, alerts_after, assert_equivalent, eventually, scrape
from tests.support.logs import make_log, replay_alerts

COUNTERS = {"settled": "churnwatch_risk_predictions_settled",
            "churned": "churnwatch_risk_predictions_churned",
            "expected": "churnwatch_risk_expected_churned",
            "squared": "churnwatch_risk_squared_error"}


def live_bins(port: int) -> dict[tuple[str, str], dict[str, float]]:
    """(horizon_days, bin) -> each calibration counter's value, from the worker's page."""
    found: dict[tuple[str, str], dict[str, float]] = {}
    names = {v: k for k, v in COUNTERS.items()}
    for family in text_string_to_metric_families(scrape(port)):
        for sample in family.samples:
            if sample.name.endswith("_total") and family.name in names:
                key = (sample.labels["horizon_days"], sample.labels["bin"])
                found.setdefault(key, {})[names[family.name]] = sample.value
    return found


def matches(live: dict[tuple[str, str], dict[str, float]], want: Calibration) -> bool:
    for horizon, row in want.bins.items():
        for b, counts in enumerate(row):
            got = live.get((f"{horizon:g}", bin_label(b)), {})
            if (got.get("settled"), got.get("churned")) != (counts.n, counts.churned) or \
                    abs(got.get("expected", -1) - counts.risk_ppm / PPM) > 1e-6 or \
                    abs(got.get("squared", -1) - counts.squared_ppm2 / PPM**2) > 1e-6:
                return False
    return True


@pytest.mark.timeout(600)
def test_the_live_calibration_counters_are_replays_and_give_its_figures(
        cluster: Cluster, tmp_path: Path) -> None:
    cluster.hops(1)
    log = make_log(tmp_path)
    cluster.fit(log)
    expected = replay_alerts(log, tmp_path, cluster.settings)
    settled = churnwatch.replay(log, settings=cluster.settings).settled
    want = Calibration()
    want.add(settled)
    assert len(want.bins) == 1 and len(settled) > 100
    [horizon] = want.bins
    worker = cluster.start_worker()
    produce(read_lines(log), cluster.settings)
    got = alerts_after(cluster.consumer(cluster.settings.topics.recall), expected,
                       alive=lambda: worker.poll() is None, progress=cluster.progress,
                       exact=True)
    assert_equivalent(expected, got, exact=True)
    port = cluster.ports[0]
    assert eventually(lambda: matches(live_bins(port), want), timeout=60), (
        live_bins(port), want.bins)
    # what the recording rules compute from the counters is the offline figure
    live = live_bins(port)
    row = [Bin(int(c["settled"]), int(c["churned"]), round(c["expected"] * PPM),
               round(c["squared"] * PPM**2))
           for c in (live[(f"{horizon:g}", bin_label(b))] for b in range(BINS))]
    offline = calibration.of(settled)
    figures = calibration.figures(row)
    assert abs(figures.ece - offline.ece) < 1e-9 and abs(figures.brier - offline.brier) < 1e-9
    assert (figures.predictions, figures.churned) == (offline.predictions, offline.churned)
