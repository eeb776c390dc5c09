"""The engine writes alerts as plain dicts through orjson (churnwatch/engine/alerting.py):
the bytes must be exactly what the contract's pydantic model writes, for every signal."""

from pathlib import Path

from churnwatch.engine import AlertOut
from churnwatch.models.alert import Alert
from churnwatch.models.vocabulary import SIGNAL_NAMES
from churnwatch.replayer import replay_files, valid_events
from churnwatch.replayer.driver import detector_for, run
from churnwatch.settings import Settings
from tests.support.golden import CASES, GOLDEN, LOOP, run_case


def engine_alerts(log: Path, settings: Settings, as_of: float | None) -> list[AlertOut]:
    detector = detector_for(settings)
    items = ((n, b"", event) for n, event in enumerate(valid_events(log), 1))
    return [a for a in run(detector, items, as_of) if isinstance(a, AlertOut)]


def test_every_alert_is_byte_for_byte_what_the_model_writes(tmp_path: Path) -> None:
    """The generated log with a campaign's actions (follow-ups overdue, every signal the
    generator raises): each document, validated by the model and written by it again,
    gives the same bytes; a value of another type (an int for a float) would not."""
    case = next(c for c in CASES if c.loop)
    settings = Settings().changed("loop", **LOOP)
    run_case(case, tmp_path, settings)  # writes the case's log, actions included
    alerts = engine_alerts(tmp_path / f"{case.name}.jsonl", settings, None)
    assert {a.signal for a in alerts} >= set(SIGNAL_NAMES) - {"engagement_drop"}
    for alert in alerts:
        model = alert.model()
        assert alert.json() == model.model_dump_json().encode()
        assert alert.data_json() == model.data.model_dump_json().encode()


def test_what_the_engine_routes_on_is_what_the_document_says(tmp_path: Path) -> None:
    for alert in engine_alerts(GOLDEN / "sample.jsonl", Settings(), None):
        model = Alert.model_validate_json(alert.json())
        assert (alert.id, alert.subject, alert.signal, alert.tier) == (
            model.id, model.subject, model.data.signal, model.data.tier)
        assert (alert.time, alert.respond_by) == (model.time.timestamp(),
                                                  model.data.respond_by.timestamp())


def test_the_cli_writes_the_golden_alerts_from_the_engine_documents(tmp_path: Path) -> None:
    """``replay_files`` writes AlertOut.json(), the API the model's: both are the goldens."""
    sample = next(c for c in CASES if c.name == "sample")
    replay_files(GOLDEN / "sample.jsonl", tmp_path / "a.jsonl", tmp_path / "c.jsonl",
                 settings=Settings(), as_of=sample.as_of, progress=False)
    assert (tmp_path / "a.jsonl").read_bytes() == (GOLDEN / "sample.alerts.jsonl").read_bytes()
