"""The detection engine: one face for everything that runs the rules.

Inside, in the order an event meets them: ``replayer`` reads and validates input and
drives a ``Detector`` (``detector``), whose event time is the quorum of ``eventtime``;
findings of the signals (``churnwatch.signals``) become alerts in ``alerting``, scored by
``scoring``; refused input becomes a ``deadletter`` record. Outside, the CLI, the
generator's evaluation, the test helpers and the streaming workers use only the names
below; the domain it runs on (state, RFM maths, signals) lives in ``churnwatch.models``
and ``churnwatch.signals`` and knows nothing of this package.
"""

from churnwatch.engine.deadletter import dead_letter_record
from churnwatch.engine.detector import Detector, Outcome, Restored, Stats
from churnwatch.engine.eventtime import EventTimeGuard, Quorum, ahead_reason
from churnwatch.engine.replayer import (
    LATE_REASON,
    AsOf,
    Counts,
    DeadLetter,
    Events,
    FileReport,
    InvalidInput,
    ReplayResult,
    replay,
    replay_files,
    valid_events,
)
from churnwatch.engine.scoring import Scorer, customer

__all__ = [
    "LATE_REASON", "AsOf", "Counts", "DeadLetter", "Detector", "EventTimeGuard", "Events",
    "FileReport", "InvalidInput", "Outcome", "Quorum", "ReplayResult", "Restored", "Scorer",
    "Stats", "ahead_reason", "customer", "dead_letter_record", "replay", "replay_files",
    "valid_events",
]
