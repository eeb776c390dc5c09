"""The public Python API, called the way a user's code calls it."""

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import churnwatch
from churnwatch.cli import main
from churnwatch.testing import EventLog
from tests.support.golden import GOLDEN

SAMPLE = GOLDEN / "sample.jsonl"
AS_OF = "2025-06-30T00:00:00Z"


def test_replay_gives_the_cli_bytes_for_the_same_log(tmp_path: Path) -> None:
    out = {k: tmp_path / f"{k}.jsonl"
           for k in ("alerts", "customers", "dead-letter", "holdout")}
    cli = CliRunner().invoke(main, [
        "replay", str(SAMPLE), "--alerts", str(out["alerts"]), "--customers",
        str(out["customers"]), "--dead-letter", str(out["dead-letter"]), "--holdout",
        str(out["holdout"]), "--as-of", AS_OF])
    assert cli.exit_code == 0, cli.output
    result = churnwatch.replay(str(SAMPLE), as_of=AS_OF)
    assert result.outputs() == {k: p.read_bytes() for k, p in out.items()}
    assert result.counts.invalid == len(result.dead_letters) == 4
    assert result.counts.duplicates == 1
    assert result.counts.total_alerts == len(result.alerts) > 0


def test_every_input_form_gives_the_same_alerts() -> None:
    lines = SAMPLE.read_bytes().splitlines()
    valid = [line for line in lines if _is_valid(line)]
    expected = churnwatch.replay(valid, as_of=AS_OF).outputs()
    assert churnwatch.replay(Path(SAMPLE), as_of=AS_OF).outputs()["alerts"] == \
        expected["alerts"]
    for form in ([orjson.loads(line) for line in valid],
                 [line.decode() for line in valid],
                 [churnwatch.parse_event(line) for line in valid]):
        assert churnwatch.replay(form, as_of=AS_OF).outputs() == expected


def _is_valid(line: bytes) -> bool:
    try:
        churnwatch.parse_event(line)
    except churnwatch.InvalidEvent:
        return False
    return True


def test_as_of_accepts_a_string_an_aware_datetime_or_seconds() -> None:
    moment = datetime(2025, 6, 30, tzinfo=UTC)
    results = [churnwatch.replay(SAMPLE, as_of=a).alerts
               for a in (AS_OF, moment, moment.timestamp())]
    assert results[0] == results[1] == results[2]
    without = churnwatch.replay(SAMPLE).alerts
    assert len(results[0]) > len(without)  # silence after the last event is detected
    with pytest.raises(ValueError, match="timezone-aware"):
        churnwatch.replay(SAMPLE, as_of=datetime(2025, 6, 30))


def test_settings_come_from_the_call_not_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    log = EventLog().orders("c1", days=[0, 10, 20, 30]).order("c1", day=40, amount=50)
    monkeypatch.setenv("CHURNWATCH_DETECTION__BASKET_DROP__RATIO", "0.9")
    assert churnwatch.replay(log).signals_for("c1") == []  # 50 % is above the default 40 %
    asked = churnwatch.replay(log, settings={"detection": {"basket_drop": {"ratio": 0.6}}})
    assert asked.signals_for("c1") == ["basket_drop"]
    from_env = churnwatch.replay(log, settings=churnwatch.Settings.from_env())
    assert from_env.signals_for("c1") == ["basket_drop"]


def test_invalid_items_become_dead_letters_with_their_position() -> None:
    items = [{"kind": "order"}, b"not json", object(), *EventLog().order("c1", 0)]
    result = churnwatch.replay(items)  # type: ignore[arg-type]
    assert [d.line for d in result.dead_letters] == [1, 2, 3]
    assert "not an event" in result.dead_letters[2].reason
    assert result.dead_letters[1].raw == b"not json"
    assert result.counts.accepted == 1
    assert result.customer("c1").frequency == 1


def test_result_writes_the_files_the_cli_would(tmp_path: Path) -> None:
    result = churnwatch.replay(SAMPLE, as_of=AS_OF)
    result.write(alerts=tmp_path / "a.jsonl", customers=str(tmp_path / "c.jsonl"))
    assert (tmp_path / "a.jsonl").read_bytes() == (GOLDEN / "sample.alerts.jsonl").read_bytes()
    assert (tmp_path / "c.jsonl").read_bytes() == \
        (GOLDEN / "sample.customers.jsonl").read_bytes()


def test_a_customer_who_never_bought_is_not_scored_and_every_line_says_what_risk_means(
        ) -> None:
    """A prospect's alert and line carry no made-up scores (schema v2); a buyer's state
    the horizon and the event time their risk is about."""
    log = (EventLog().visits("p1", days=[0, 5, 10]).unfollow("p1", day=12)
           .orders("b1", days=[0, 10, 20]).unfollow("b1", day=25))
    result = churnwatch.replay(log, as_of="2024-03-01T00:00:00Z")
    prospect, buyer = result.customer("p1"), result.customer("b1")
    assert prospect.segment == "prospect"
    assert (prospect.p_alive, prospect.risk, prospect.value_at_risk) == (None, None, None)
    assert buyer.risk is not None and 0 < buyer.risk < 1 and buyer.value_at_risk is not None
    assert prospect.as_of == buyer.as_of == datetime(2024, 3, 1, tzinfo=UTC)
    assert prospect.risk_horizon_days == buyer.risk_horizon_days == 182.0
    alerts = {a.subject: a for a in result.alerts if a.data.signal == "unfollowed"}
    assert alerts["p1"].data.risk is None
    assert not [r for r in alerts["p1"].data.reasons if r.code.startswith("risk.")]
    assert alerts["b1"].data.risk is not None
    for alert in alerts.values():
        assert alert.data.as_of == alert.time
        assert alert.data.risk_horizon_days == 182.0
