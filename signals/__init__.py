"""The warning-indicator library (流失信号 / 预警指标库): one module per signal.

| signal                | module                            |
|-----------------------|-----------------------------------|
| promotion_skipped     | signals/promotion_skipped.py      |
| basket_drop           | signals/basket_drop.py            |
| complaint_escalated   | signals/complaint_escalated.py    |
| unfollowed            | signals/unfollowed.py             |
| engagement_drop       | signals/engagement_drop.py        |
| gone_quiet            | signals/gone_quiet.py             |
| segment_at_risk       | signals/segment_at_risk.py        |
| nps_detractor         | signals/nps_detractor.py          |
| recovered             | signals/recovered.py              |

Each is a :class:`churnwatch.signals.base.Signal`; governance (cooldown, cap) and
recommended actions apply to all of them alike and live in ``governance.py`` and ``actions.py``.
"""

if __name__ != "churnwatch.signals":  # signals/ is linked in as churnwatch.signals
    raise ImportError(f"import churnwatch.signals, not {__name__}: under a second name every "
                      "module would load twice, with two copies of each class")

from typing import get_args

from churnwatch.models.events import AnyEvent
from churnwatch.models.vocabulary import SIGNAL_NAMES
from churnwatch.signals.base import CODES, TIME, Context, Finding, Reason, Signal
from churnwatch.signals.basket_drop import BasketDrop
from churnwatch.signals.complaint_escalated import ComplaintEscalated
from churnwatch.signals.engagement_drop import EngagementDrop
from churnwatch.signals.gone_quiet import GoneQuiet
from churnwatch.signals.nps_detractor import NpsDetractor
from churnwatch.signals.promotion_skipped import PromotionSkipped
from churnwatch.signals.recovered import Recovered
from churnwatch.signals.segment_at_risk import SegmentAtRisk
from churnwatch.signals.unfollowed import Unfollowed

ALL_SIGNALS: tuple[Signal, ...] = (
    Recovered(),  # first: it reads the open alerts before this item can open new ones
    PromotionSkipped(),
    BasketDrop(),
    ComplaintEscalated(),
    Unfollowed(),
    EngagementDrop(),
    GoneQuiet(),
    SegmentAtRisk(),
    NpsDetractor(),
)

BY_TRIGGER: dict[type, tuple[Signal, ...]] = {
    kind: tuple(s for s in ALL_SIGNALS if s.reads is None or kind in s.reads)
    for kind in (*get_args(AnyEvent), TIME)
}
"""The signals to run for each kind of trigger (``type(trigger)``), in ``ALL_SIGNALS``
order: an item runs only the signals that can find something in it."""
TIMED: tuple[Signal, ...] = tuple(s for s in ALL_SIGNALS if s.timed)
"""The signals with a deadline."""

__all__ = ["ALL_SIGNALS", "BY_TRIGGER", "CODES", "SIGNAL_NAMES", "TIMED", "Context", "Finding",
           "Reason", "Signal"]
