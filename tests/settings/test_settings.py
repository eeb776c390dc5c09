from datetime import timedelta
from pathlib import Path

import pytest

from churnwatch.settings import Settings

EXAMPLE = Path(__file__).parents[2] / "deploy" / "churnwatch.example.toml"


def test_example_config_file_states_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHURNWATCH_CONFIG", str(EXAMPLE))
    from_file = Settings()
    monkeypatch.delenv("CHURNWATCH_CONFIG")
    assert from_file.detection == Settings().detection
    assert from_file.topics == Settings().topics
    assert from_file.runtime == Settings().runtime
    assert from_file.risk == Settings().risk
    assert from_file.loop == Settings().loop


def test_environment_overrides_nested_settings_and_the_file(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHURNWATCH_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("CHURNWATCH_DETECTION__BASKET_DROP__RATIO", "0.5")
    monkeypatch.setenv("CHURNWATCH_DETECTION__ALLOWED_LATENESS", "PT1H")
    monkeypatch.setenv("CHURNWATCH_TOPICS__RECALL", "crm.alerts")
    s = Settings()
    assert s.detection.basket_drop.ratio == 0.5
    assert s.detection.allowed_lateness == timedelta(hours=1)
    assert s.topics.recall == "crm.alerts"


def test_defaults_work_without_any_configuration() -> None:
    s = Settings()
    assert s.kafka.brokers == ""  # empty: the demo starts the embedded broker
    assert s.detection.gone_quiet.absolute_days == 90
    assert s.kafka.security_protocol == "PLAINTEXT"


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHURNWATCH_DETECTION__BASKET_DROP__RATIO", "1.5")
    with pytest.raises(ValueError, match="ratio"):
        Settings()


@pytest.mark.parametrize(("given", "kept"), [
    ("localhost", "localhost:9092"), ("kafka-1:9093, kafka-2", "kafka-1:9093,kafka-2:9092"),
    ("[::1]", "[::1]:9092"), ("[::1]:9094", "[::1]:9094")])
def test_a_broker_without_a_port_gets_kafkas(given: str, kept: str) -> None:
    """Before: ``localhost`` failed later, in a client, as "invalid literal for int()"."""
    assert Settings.build(kafka={"brokers": given}).kafka.brokers == kept


@pytest.mark.parametrize("given", ["kafka:abc", "kafka:0", ":9092", "kafka:70000"])
def test_a_broker_address_that_is_not_host_port_is_refused_by_name(given: str) -> None:
    with pytest.raises(ValueError, match=f"{given!r} is not host:port"):
        Settings.build(kafka={"brokers": given})


def test_secrets_are_masked_when_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHURNWATCH_KAFKA__SASL_PASSWORD", "hunter2")
    s = Settings()
    assert "hunter2" not in s.model_dump_json()
    assert s.kafka.sasl_password is not None
    assert s.kafka.sasl_password.get_secret_value() == "hunter2"


def test_every_detector_scores_with_the_configured_parameter_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from churnwatch.engine import Detector
    from churnwatch.models.params import default

    fitted = default().model_copy(update={"version": ""})
    changed = fitted.model_copy(update={"risk": fitted.risk.model_copy(
        update={"intercept": fitted.risk.intercept + 1})}).seal()
    path = tmp_path / "model.json"
    path.write_bytes(changed.dump())
    monkeypatch.setenv("CHURNWATCH_RISK__PARAMS_FILE", str(path))
    assert Detector(Settings()).scorer.version == changed.version != default().version


def test_a_misspelt_signal_in_the_holdout_shares_is_refused() -> None:
    with pytest.raises(ValueError, match="did you mean 'gone_quiet'"):
        Settings.build(loop={"holdout_by_signal": {"gone_quite": 0.1}})
    with pytest.raises(ValueError, match="between 0 and 1"):
        Settings.build(loop={"holdout_by_signal": {"gone_quiet": 1.5}})
