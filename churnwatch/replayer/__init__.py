"""The replayer: the streaming detection logic over a log of events, with no broker.

``api`` is its face (:func:`replay`, :func:`replay_files`); ``inputs`` reads and
validates what comes in, ``driver`` runs it through one ``churnwatch.engine.Detector``,
``results`` holds what comes out and the bytes the CLI writes for it.
"""

from churnwatch.replayer.api import replay, replay_files
from churnwatch.replayer.inputs import AsOf, Events, read_log, valid_events
from churnwatch.replayer.results import (
    Counts,
    DeadLetter,
    FileReport,
    InvalidInput,
    ReplayResult,
)

__all__ = ["AsOf", "Counts", "DeadLetter", "Events", "FileReport",
           "InvalidInput", "ReplayResult", "read_log", "replay", "replay_files",
           "valid_events"]
