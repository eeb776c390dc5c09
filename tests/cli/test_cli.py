from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from churnwatch.cli import main
from churnwatch.models.alert import Alert
from churnwatch.models.schema import EARLIER
from tests.support.golden import GOLDEN

ROOT = Path(__file__).parents[2]


def test_schema_command_matches_the_committed_contract_schemas(tmp_path: Path) -> None:
    """A change to an event or alert shape must come with a new schema version; the
    schemas of earlier output versions stay published beside the current ones."""
    result = CliRunner().invoke(main, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert sorted([*written, *EARLIER]) == sorted(p.name for p in (ROOT / "schemas").iterdir())
    for name in written:
        assert (tmp_path / name).read_bytes() == (ROOT / "schemas" / name).read_bytes(), name


def test_replay_command_writes_alerts_customers_and_dead_letters(tmp_path: Path) -> None:
    out = {k: tmp_path / f"{k}.jsonl" for k in ("alerts", "customers", "dl")}
    result = CliRunner().invoke(main, [
        "replay", str(GOLDEN / "sample.jsonl"), "--alerts", str(out["alerts"]),
        "--customers", str(out["customers"]), "--dead-letter", str(out["dl"]),
        "--as-of", "2025-06-30T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "4 invalid, 1 duplicate" in result.output
    assert out["alerts"].read_bytes() == (GOLDEN / "sample.alerts.jsonl").read_bytes()
    for line in out["alerts"].open("rb"):
        Alert.model_validate_json(line)
    assert len(out["dl"].read_text().splitlines()) == 4


def test_replay_rejects_a_naive_as_of_time(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "replay", str(GOLDEN / "sample.jsonl"), "--alerts", str(tmp_path / "a"),
        "--customers", str(tmp_path / "c"), "--as-of", "2025-06-30T00:00:00"])
    assert result.exit_code == 2
    assert "RFC 3339" in result.output


def test_generate_then_replay_raises_every_signal_and_labels_confirm_them(
        tmp_path: Path) -> None:
    log, alerts, customers = (tmp_path / n for n in ("log.jsonl", "a.jsonl", "c.jsonl"))
    runner = CliRunner()
    result = runner.invoke(main, ["generate", "--out", str(log), "--customers", "400",
                                  "--days", "540", "--seed", "3", "--noise"])
    assert result.exit_code == 0, result.output
    labels = tmp_path / "log.labels.jsonl"
    assert labels.exists()
    assert runner.invoke(main, ["replay", str(log), "--alerts", str(alerts),
                                "--customers", str(customers)]).exit_code == 0
    report = runner.invoke(main, ["confirm", str(alerts), str(labels)])
    assert report.exit_code == 0
    rows = {line.split()[0]: line.split() for line in report.output.splitlines()[1:]}
    expected = {"promotion_skipped", "basket_drop", "complaint_escalated", "unfollowed",
                "engagement_drop", "gone_quiet", "segment_at_risk", "nps_detractor"}
    assert set(rows) == expected
    for signal, row in rows.items():
        labelled, confirmed, recall = int(row[1]), int(row[3]), float(row[4])
        assert labelled >= 5, signal
        assert confirmed > 0, signal
        assert recall >= 0.8, (signal, recall)


def test_generator_is_seeded(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        runner.invoke(main, ["generate", "--out", str(tmp_path / f"{name}.jsonl"),
                             "--customers", "50", "--days", "120", "--noise"])
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    first = orjson.loads((tmp_path / "a.jsonl").open("rb").readline())
    assert first["kind"] in ("order", "engagement", "complaint")


def test_a_replay_into_a_pipe_says_how_far_it_is(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Standard error is no terminal here (captured): lines, not a bar."""
    from churnwatch.replayer import replay_files
    from churnwatch.settings import Settings
    from churnwatch.simulate.generate import generate

    log = tmp_path / "log.jsonl"
    generate(log, tmp_path / "labels.jsonl", customers=60, days=200, seed=2,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=False)
    replay_files(log, tmp_path / "a.jsonl", tmp_path / "c.jsonl", settings=Settings.build(),
                 progress_every=0.0)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("replay: 4,096 lines in ") and "customers" in lines[0]
    assert len(lines) == sum(1 for _ in log.open()) // 4096
