"""The detection engine: the rules run over customer states, with no I/O.

Inside, in the order an event meets them: a ``Detector`` (``detector``) whose event time
is the census of ``eventtime``; findings of the signals (``churnwatch.signals``) become
alerts in ``alerting``, scored by ``scoring``; refused input becomes a ``deadletter``
record. Outside, the replayer (``churnwatch.replayer``) and the streaming workers drive it
through the names below; the domain it runs on (state, RFM maths, signals) lives in
``churnwatch.models`` and ``churnwatch.signals`` and knows nothing of this package.
"""

from churnwatch.engine.alerting import AlertOut
from churnwatch.engine.deadletter import dead_letter_record
from churnwatch.engine.detector import Admission, Detector, Restored, Stats
from churnwatch.engine.eventtime import LATE_REASON, Census, EventTimeGuard, ahead_reason
from churnwatch.engine.scoring import Scorer, customer

__all__ = [
    "LATE_REASON",
    "Admission",
    "AlertOut",
    "Census",
    "Detector",
    "EventTimeGuard",
    "Restored",
    "Scorer",
    "Stats",
    "ahead_reason",
    "customer",
    "dead_letter_record",
]
