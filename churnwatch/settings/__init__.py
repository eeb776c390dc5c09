"""One typed settings object for the whole tool (``model``), and loading it from the
environment with every mistake named plainly (``environment``). The detection section is
declared with the signals (``churnwatch.signals.detection``), each signal's thresholds
beside it."""

from churnwatch.settings.model import (
    CONFIG_VARIABLE,
    ConfigFileError,
    KafkaSettings,
    LoopSettings,
    RiskSettings,
    Route,
    RuntimeSettings,
    Settings,
    TopicSettings,
)
from churnwatch.signals.detection import DetectionSettings, EventTimeSettings

__all__ = ["CONFIG_VARIABLE", "ConfigFileError", "DetectionSettings", "EventTimeSettings",
           "KafkaSettings", "LoopSettings", "RiskSettings", "Route", "RuntimeSettings",
           "Settings", "TopicSettings"]
