"""Did it work? The outcome report recovers a simulated campaign's known effect.

One pinned seed per case: the report's 95 % intervals miss the truth about one time in
twenty by design, so a test over every seed would be a coin toss. How often they hold
across seeds is measured by bench/outcome_coverage.py (BENCHMARKS.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

import churnwatch
from churnwatch.analysis.outcomes import OutcomeReport, Row, _saved, p_value, render, verdicts
from churnwatch.cli import main
from churnwatch.models.attribution import AlertOutcome
from churnwatch.models.uplift import Z95, Group, Uplift
from churnwatch.settings import Settings
from churnwatch.simulate.campaign import EFFECTS, run_campaign
from churnwatch.simulate.generate import generate

SETTINGS = Settings.build(loop={"holdout_share": 0.5})


def campaign(tmp: Path, seed: int, customers: int, effects: Any = EFFECTS
             ) -> tuple[OutcomeReport, dict[str, Any]]:
    log, labels = tmp / "log.jsonl", tmp / "labels.jsonl"
    generate(log, labels, customers=customers, days=730, seed=seed,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    run_campaign(log, labels, SETTINGS, seed, effects)
    truth = orjson.loads(labels.read_bytes().splitlines()[-1])["campaign"]["signals"]
    return churnwatch.outcomes(log, settings=SETTINGS), truth  # the public face


def overall(report: OutcomeReport) -> list[Any]:
    return [r for r in report.rows if r.tier == "all" and r.action == "all" and r.uplift]


def test_the_report_recovers_every_signals_true_uplift(tmp_path: Path) -> None:
    report, truth = campaign(tmp_path, seed=2, customers=800)
    rows = overall(report)
    assert len(rows) >= 4  # signals with enough held-out alerts to say anything
    for row in rows:
        assert row.uplift is not None
        true = truth[row.signal]["true_uplift"]
        low, high = row.uplift.interval
        assert low <= true <= high, (row.signal, true, row.uplift)
        if true > 0.15:  # a real effect is found, not just bracketed
            assert low > 0 and row.uplift.p_value < 0.05, (row.signal, row.uplift)


def test_a_campaign_without_effect_shows_no_uplift(tmp_path: Path) -> None:
    report, truth = campaign(tmp_path, seed=3, customers=500,
                             effects=dict.fromkeys(EFFECTS, 0.0))
    assert all(t["true_uplift"] in (0.0, None) for t in truth.values())
    rows = overall(report)
    assert rows
    for row in rows:
        assert row.uplift is not None
        low, high = row.uplift.interval
        assert low <= 0 <= high, (row.signal, row.uplift)


def test_generate_with_actions_then_outcomes_from_the_command_line(tmp_path: Path) -> None:
    """``outcomes`` finds the holdout ``generate`` recorded beside the log and says so
    (before: it assumed none, warned and printed an incremental revenue of 0.00)."""
    log, labels = tmp_path / "log.jsonl", tmp_path / "log.labels.jsonl"
    run = CliRunner().invoke
    made = run(main, ["generate", "--out", str(log), "--customers", "150", "--days", "400",
                      "--actions", "--holdout-share", "0.2"])
    assert made.exit_code == 0, made.output
    kinds = {orjson.loads(line)["kind"] for line in log.open("rb")}
    assert "action" in kinds
    json_out, html_out = tmp_path / "out.json", tmp_path / "out.html"
    done = run(main, ["outcomes", str(log), "--json", str(json_out), "--html", str(html_out)])
    assert done.exit_code == 0, done.output
    assert f"holdout: 20% of customers (salt 'churnwatch'), as recorded in {labels}" in \
        done.output
    assert "Outcomes of" in done.output and "Response to treated alerts" in done.output
    assert "no alert was held out" not in done.output
    body = orjson.loads(json_out.read_bytes())
    assert body["closed_alerts"] > 0 and body["rows"]
    assert sum(row["held_out"]["alerts"] for row in body["rows"]) > 0
    # one shape for every row: an object whose status says whether it was measured
    assert {row["uplift"]["status"] for row in body["rows"]} <= {"measured", "not enough data"}
    assert all(("difference" in row["uplift"]) == (row["uplift"]["status"] == "measured")
               for row in body["rows"])
    assert html_out.read_text().count('<svg class="chart"') == 3
    # the labels file still reads as labels: the campaign's line is skipped
    alerts = tmp_path / "alerts.jsonl"
    assert run(main, ["replay", str(log), "--alerts", str(alerts), "--customers",
                      str(tmp_path / "c.jsonl")]).exit_code == 0
    checked = run(main, ["confirm", str(alerts), str(labels)])
    assert checked.exit_code == 0, checked.output


def test_without_a_holdout_there_is_nothing_to_compare(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    generate(log, tmp_path / "labels.jsonl", customers=60, days=300, seed=4,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    done = CliRunner().invoke(main, ["outcomes", str(log)])
    assert done.exit_code == 0
    assert "no alert was held out" in done.output
    assert "not enough data" in done.output
    assert "(vs held out): not measurable, no alert was held out" in done.output


@pytest.mark.parametrize("bad", [
    {"alert_id": "a1"},  # what was done is missing
    {"alert_id": "", "action": "contacted"},
    {"alert_id": "a1", "action": "contacted", "offer_cost": -1},
    {"alert_id": "a1", "action": "contacted", "offer_cost": "5"},
])
def test_a_bad_action_report_is_dead_lettered_with_its_reason(bad: dict[str, Any]) -> None:
    import churnwatch

    line = orjson.dumps({"kind": "action", "event_id": "x1", "customer_id": "c1",
                         "occurred_at": "2024-03-01T00:00:00Z", **bad})
    result = churnwatch.replay([line])
    [dead] = result.dead_letters
    assert dead.raw == line
    assert dead.reason.split(":")[0] in {"action", "alert_id", "offer_cost"}


def test_a_tiny_p_value_reads_as_below_the_shown_precision() -> None:
    """Before: "p 0.000", which reads as impossible (issue 38)."""
    assert [p_value(p) for p in (0.0001, 0.0005, 0.0123, 0.5)] == [
        "< 0.001", "0.001", "0.012", "0.500"]


def _row(signal: str, difference: tuple[float, float, float] | None,
         revenue: tuple[float, float, float] = (10.0, 1.0, 20.0)) -> Row:
    u = None if difference is None else Uplift(
        difference[0], (difference[1], difference[2]), 0.01, revenue[0], (revenue[1], revenue[2]))
    return Row(signal, "all", "all", Group(), Group(), u is not None, u)


def test_verdicts_are_never_stronger_than_the_intervals() -> None:
    """A manager's summary (issue 38): keep only when win-back and revenue per alert are
    both above zero at 95 %, stop when either is below; otherwise say what is missing."""
    rows = [_row("gone_quiet", (0.24, 0.10, 0.38), (75.0, 12.0, 140.0)),
            _row("basket_drop", (0.05, 0.01, 0.09), (8.0, -3.0, 19.0)),
            _row("segment_at_risk", (0.01, -0.05, 0.07), (-206.0, -751.0, 339.0)),
            _row("unfollowed", (-0.08, -0.15, -0.01)),
            _row("skipped_promotions", None)]
    report = OutcomeReport(rows, [], [], closed=500, attribution_days=30, min_group=30)
    decided = {v.signal: (v.decision, v.why) for v in verdicts(report)}
    assert {s: d for s, (d, _) in decided.items()} == {
        "gone_quiet": "keep", "basket_drop": "keep if it pays",
        "segment_at_risk": "no effect shown", "unfollowed": "stop",
        "skipped_promotions": "not enough data"}
    assert decided["gone_quiet"][1].startswith(
        "+24.0 points won back (+10.0 to +38.0), +75.00 revenue per alert (+12.00 to +140.00)")
    assert "30 of each are needed" in decided["skipped_promotions"][1]
    euro = OutcomeReport(rows, [], [], closed=500, attribution_days=30, min_group=30,
                         currency="EUR")
    assert "+75.00 EUR revenue per alert (+12.00 EUR to +140.00 EUR)" in render(euro)
    assert euro.to_json()["currency"] == "EUR" and report.to_json()["currency"] is None
    text = render(report)
    assert text.startswith("What to do") and "segment_at_risk      no effect shown" in text
    assert [v["decision"] for v in report.to_json()["verdicts"]] == [
        "keep", "keep if it pays", "no effect shown", "stop", "not enough data"]


def _closed(customer: str, held_out: bool, revenue: float, month: int) -> AlertOutcome:
    at = int(datetime(2025, month, 15, tzinfo=UTC).timestamp())
    return AlertOutcome(customer=customer, signal=5, tier=2, held_out=held_out, action=None,
                        won=revenue > 0, revenue=revenue, cost=0.0, alerted_at=at)


def test_cumulative_revenue_pools_the_months_with_an_interval_from_the_customers() -> None:
    """Before, the page summed each month's estimate and drew no interval: a negative
    stretch could not be told from chance."""
    closed = ([_closed(f"t{i}", False, 30.0 * (i % 3), 1) for i in range(30)]
              + [_closed(f"h{i}", True, 10.0 * (i % 2), 1) for i in range(30)]
              + [_closed(f"t{i}", False, 60.0, 2) for i in range(10)]
              + [_closed(f"h{i}", True, 0.0, 2) for i in range(10)])
    january, february = _saved(closed)
    assert (january.month, february.month) == ("2025-01", "2025-02")
    treated = Group()
    held = Group()
    for o in closed:
        (held if o.held_out else treated).add(o.won, o.revenue, cluster=o.customer)
    pooled = treated.n * (treated.revenue_mean - held.revenue_mean)
    assert february.cumulative == pytest.approx(pooled)
    assert february.revenue == pytest.approx(10 * 60.0)  # that month alone
    low, high = february.interval
    assert low < february.cumulative < high
    assert high - february.cumulative == pytest.approx(february.cumulative - low)
    assert (high - low) / 2 == pytest.approx(
        Z95 * treated.n * (treated.revenue_mean_var() + held.revenue_mean_var()) ** 0.5)
    assert february.to_json()["cumulative_interval"] == [round(low, 6), round(high, 6)]


def test_the_text_report_gives_the_total_with_its_interval(tmp_path: Path) -> None:
    saved = _saved([_closed(f"t{i}", False, 20.0 * (i % 2), 1) for i in range(40)]
                   + [_closed(f"h{i}", True, 0.0, 1) for i in range(40)])
    held = Group()
    held.add(False, 0.0)
    report = OutcomeReport(rows=[Row("gone_quiet", "all", "all", held, held, True, None)],
                           responses=[], saved_by_month=saved, closed=80,
                           attribution_days=30, min_group=30, currency="EUR")
    text = render(report)
    low, high = saved[-1].interval
    assert (f"Incremental revenue of treated alerts (vs held out): +400.00 EUR (95 % interval "
            f"{low:+,.2f} EUR to {high:+,.2f} EUR)") in text
