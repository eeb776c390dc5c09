"""One typed settings object for the whole tool.

``Settings.from_env()`` (what the CLI and the workers use) takes values, highest priority
first, from environment variables (prefix ``CHURNWATCH_``, nested keys joined by ``__``,
e.g. ``CHURNWATCH_DETECTION__BASKET_DROP__RATIO=0.5``), an optional TOML or JSON file named
by ``CHURNWATCH_CONFIG``, and the defaults below. ``Settings.build(...)`` takes only the
values given and the defaults, so code and tests are not steered by the shell they run in.
The defaults are retail defaults grounded in docs/DOMAIN.md and work without any file.
"""

from __future__ import annotations

import json
import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from churnwatch.models.params import ModelDoc, default, load
from churnwatch.models.vocabulary import Tier
from churnwatch.signals.detection import DetectionSettings, Section


class TopicSettings(Section):
    orders: str = "orders"
    engagement: str = "engagement"
    complaints: str = "complaints"
    actions: str = Field("actions", description="what marketing did about alerts (input)")
    recall: str = "churnwatch-recall"
    holdout: str = Field("churnwatch-recall-holdout", description="held-out alerts: for "
                         "measurement only, never to be acted on")
    dead_letter: str = "churnwatch-dead-letter"
    partitions: int = Field(4, ge=1)
    replication_factor: int = Field(1, ge=1)


def _addresses(value: Any) -> Any:
    """``host:port,host:port``; a host without a port gets Kafka's 9092, as Kafka's own
    clients assume. A port that is not a number is refused here, by name, rather than
    deep in a client as "invalid literal for int()"."""
    if not isinstance(value, str) or not value.strip():
        return value
    addresses = []
    for address in (a.strip() for a in value.split(",")):
        host, colon, port = address.rpartition(":")
        if not colon or host.endswith(":") or (address.startswith("[") and "]" in port):
            host, port = address, "9092"  # no port (an IPv6 literal has colons of its own)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{address!r} is not host:port (e.g. kafka-1:9092)")
        addresses.append(f"{host}:{port}")
    return ",".join(addresses)


class KafkaSettings(Section):
    """Where the broker is. Empty ``brokers`` means: start the embedded Tansu broker."""

    brokers: Annotated[str, BeforeValidator(_addresses)] = ""
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    idempotent: bool | None = Field(
        None, description="the worker's producer is idempotent (acks=all; a retried send "
        "is stored once). Default: on, except when the broker answers as the embedded one "
        "(Tansu refuses InitProducerId). Set false for a cluster that refuses it: with "
        "ACLs before Kafka 3.0 it needs the IdempotentWrite permission")


class Route(Section):
    """Also send matching alerts to ``topic`` (empty lists match everything)."""

    topic: str
    signals: tuple[str, ...] = ()
    tiers: tuple[Tier, ...] = ()


class RuntimeSettings(Section):
    """How the streaming workers run. Defaults suit both the demo and production."""

    app_id: str = "churnwatch"
    tick_interval: float = Field(1.0, gt=0, description="seconds between event-time ticks")
    idle_after: float = Field(
        10.0, gt=0, description="wall-clock seconds without events before a source partition "
        "stops holding back the watermark")
    flush_every_events: int = Field(2000, ge=1, description="coalesce state writes per batch")
    cloudevents_mode: Literal["structured", "binary"] = Field(
        "structured", description="CloudEvents Kafka binding content mode of the alerts: "
        "'structured' (the whole envelope as the value, content-type "
        "application/cloudevents+json) or 'binary' (attributes as ce_ headers, data as the "
        "value); the Kafka key is the customer id either way")
    dead_letter_max_bytes: int = Field(
        900_000, ge=4096, le=1_000_000, description="largest dead-letter record; a bigger "
        "one keeps the head of the original bytes with their size and SHA-256. At most the "
        "producer's max request size (1,000,000) and the topic's max.message.bytes")
    flush_every_seconds: float = Field(1.0, gt=0)
    live_customers: int | None = Field(
        100_000, ge=1, description="customer states kept decoded (about 1.5-3 KB each): by a "
        "worker holding every partition between flushes (shared evenly across the events "
        "topic's partitions), by replay between items; the others stay encoded (about "
        "300 B) until an event or a deadline reaches them. Lossless either way. None keeps "
        "all decoded: fastest, if memory allows")
    data_dir: Path = Field(Path("."), description="where Faust keeps its {app_id}-data "
                           "directory (table offsets, and the states with table_store "
                           "'rocksdb'); the changelog is the states' source of truth")
    table_store: Literal["memory", "rocksdb"] = Field(
        "memory", description="'memory': every start rebuilds the customer states from the "
        "changelog; 'rocksdb': they stay on local disk under data_dir, so a restart reads "
        "only the changelog written since (give the worker a persistent volume)")
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(9108, ge=0, le=65535, description="0 disables /metrics")
    fast_group_join: bool | None = Field(
        None, description="embedded broker only: short session timeouts, and one record "
        "per producer batch so that table recovery reads every changelog record; "
        "default: when the broker answers as the embedded one (Tansu's cluster id), "
        "whoever started it")
    routes: tuple[Route, ...] = ()
    keyed_sources: bool = Field(
        False, description="the producers key every source record by its customer_id "
        "(Kafka's default partitioner) and every source topic has topics.partitions "
        "partitions: detect straight from the source topics, one hop (checked at start; a "
        "record not keyed so is dead-lettered). False: an ingest stage first repartitions "
        "the events by customer_id through <app_id>-events, for any producer")


class RiskSettings(Section):
    """Which fitted models score customers (``churnwatch fit`` writes the file)."""

    params_file: Path | None = Field(
        None, description="model parameters from `churnwatch fit`; default: the shipped "
        "CDNOW fit. Every worker must load the same file.")
    alert_threshold: float = Field(
        0.5, gt=0, lt=1, description="risk at which `churnwatch evaluate` counts a customer "
        "as flagged")
    max_ece: float = Field(
        0.05, gt=0, lt=1, description="expected calibration error of the risks settled over "
        "30 days above which the ChurnwatchRiskMiscalibrated alert fires (published as the "
        "gauge churnwatch_risk_max_ece)")

    def doc(self) -> ModelDoc:
        return default() if self.params_file is None else load(self.params_file)


class LoopSettings(Section):
    """Closing the loop (docs/DOMAIN.md, "Responding"): who is held out, whether follow-ups
    are tracked, and how long an alert may take to win the customer back."""

    holdout_share: float = Field(0, ge=0, le=1, description="share of customers whose alerts "
                                 "are held out (shadow topic, never acted on): marketing's "
                                 "decision, so none by default")
    holdout_by_signal: dict[str, float] = Field(
        default_factory=dict, description="per-signal shares overriding holdout_share")
    holdout_salt: str = Field("churnwatch", min_length=1, description="a new salt draws a new "
                              "holdout group")
    currency: str = Field("", pattern=r"^([A-Z]{3})?$", description="ISO 4217 code the "
                          "outcome report names revenue in (display only: order amounts are "
                          "summed as sent)")
    follow_up: bool = Field(False, description="send follow_up_overdue when an alert's "
                            "response window passes without an action reported for it; on "
                            "only where marketing reports actions")
    attribution_days: float = Field(30, gt=0, description="an alert wins the customer back "
                                    "if they buy within this many days of event time")
    min_group: int = Field(30, ge=1, description="alerts needed in each group before the "
                           "outcome report gives a rate")

    @model_validator(mode="after")
    def _shares_are_shares(self) -> LoopSettings:
        from churnwatch.signals.base import known_signal
        for signal, share in self.holdout_by_signal.items():
            known_signal(signal)
            if not 0 <= share <= 1:
                raise ValueError(f"holdout_by_signal.{signal} must be between 0 and 1")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHURNWATCH_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    source: str = Field("churnwatch", description="CloudEvents 'source' of every alert")
    detection: DetectionSettings = DetectionSettings()
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    runtime: RuntimeSettings = RuntimeSettings()
    risk: RiskSettings = RiskSettings()
    loop: LoopSettings = LoopSettings()

    @model_validator(mode="after")
    def _fitted_population_exists(self) -> Settings:
        if self.detection.population.mode == "fitted":
            pop = self.risk.doc().population
            if pop is None:
                raise ValueError(
                    "detection.population.mode 'fitted' needs risk.params_file from "
                    "`churnwatch fit` (0.3 or later): the model file has no population")
            if pop.window_days != self.detection.window_days:
                raise ValueError(
                    f"detection.window_days is {self.detection.window_days:g}, the "
                    f"fitted population was taken with {pop.window_days:g}: fit again")
        return self

    def changed(self, section: str, **values: Any) -> Settings:
        """These settings with some values of one section replaced (as given: no
        validation runs, as with pydantic's ``model_copy``)."""
        part = getattr(self, section).model_copy(update=values)
        return self.model_copy(update={section: part})

    @classmethod
    def build(cls, **values: Any) -> Settings:
        """The defaults with these values (nested as dicts); no environment, no file."""
        token = _ISOLATED.set(True)
        try:
            return cls(**values)
        finally:
            _ISOLATED.reset(token)

    @classmethod
    def from_env(cls) -> Settings:
        """The defaults, then ``CHURNWATCH_CONFIG``'s file, then ``CHURNWATCH_*`` variables."""
        return cls()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if _ISOLATED.get():
            return (init_settings,)
        return (init_settings, env_settings, _FileSource(settings_cls))


_ISOLATED: ContextVar[bool] = ContextVar("churnwatch_settings_isolated", default=False)


class _FileSource(PydanticBaseSettingsSource):
    """Reads the optional file named by ``CHURNWATCH_CONFIG`` (TOML or JSON)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(CONFIG_VARIABLE)
        if not path:
            return {}
        try:
            text = Path(path).read_text(encoding="utf-8")
            data: dict[str, Any] = (json.loads(text) if path.endswith(".json")
                                    else tomllib.loads(text))
        except OSError as exc:
            raise ConfigFileError(f"{CONFIG_VARIABLE}={path}: {exc.strerror or exc}") from None
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise ConfigFileError(f"{CONFIG_VARIABLE}={path}: not valid "
                                  f"{'JSON' if path.endswith('.json') else 'TOML'}: {exc}"
                                  ) from None
        return data


CONFIG_VARIABLE = "CHURNWATCH_CONFIG"


class ConfigFileError(ValueError):
    """The file named by ``CHURNWATCH_CONFIG`` cannot be read."""
