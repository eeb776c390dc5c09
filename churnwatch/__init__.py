"""churnwatch: a streaming churn-signal detector.

The public Python API (see README, "Using churnwatch from Python")::

    import churnwatch
    result = churnwatch.replay("events.jsonl", as_of="2025-06-30T00:00:00Z")
    for alert in result.alerts: ...

Layout (README, "Layout"): a package per job, dependencies one way: ``cli`` over
``tools``, ``analysis``, ``simulate`` and ``testing``, over ``replayer`` and ``streams``
(the two ways to drive the engine), over ``engine``, ``settings``, ``signals`` and
``models`` (the repository folders ``models/``, ``signals/`` and ``streams/``).
Names are loaded on first use, so ``import churnwatch`` stays cheap (the pytest plugin
imports it in every test session).
"""

from __future__ import annotations

from importlib import import_module, metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from churnwatch.analysis.outcomes import outcomes
    from churnwatch.errors import UserError
    from churnwatch.models.alert import Alert
    from churnwatch.models.events import InvalidEvent, parse_event
    from churnwatch.models.summary import CustomerSummary
    from churnwatch.replayer import Counts, DeadLetter, InvalidInput, ReplayResult, replay
    from churnwatch.settings import Settings
    from churnwatch.testing import EventLog

__version__ = metadata.version("churnwatch")

_EXPORTS = {
    "replay": "churnwatch.replayer", "ReplayResult": "churnwatch.replayer",
    "Counts": "churnwatch.replayer", "DeadLetter": "churnwatch.replayer",
    "InvalidInput": "churnwatch.replayer",
    "Settings": "churnwatch.settings", "UserError": "churnwatch.errors",
    "Alert": "churnwatch.models.alert", "CustomerSummary": "churnwatch.models.summary",
    "parse_event": "churnwatch.models.events", "InvalidEvent": "churnwatch.models.events",
    "EventLog": "churnwatch.testing", "outcomes": "churnwatch.analysis.outcomes",
}

__all__ = ["Alert", "Counts", "CustomerSummary", "DeadLetter", "EventLog", "InvalidEvent",
           "InvalidInput", "ReplayResult", "Settings", "UserError", "__version__",
           "outcomes", "parse_event", "replay"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'churnwatch' has no attribute {name!r}")
