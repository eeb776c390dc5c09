"""The one interface every signal implements, and what a signal sees and returns.

A signal is a pure function of a :class:`Context`: the customer's state before and after
the current item, the trigger (an event, or ``None`` when event time alone reached a
deadline), the event time ``now``, the population view and the thresholds. It never reads
a clock, so the same log always gives the same findings.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import ClassVar

from churnwatch.models.events import AnyEvent
from churnwatch.models.population import PopulationView
from churnwatch.models.rfm import RfmSnapshot, scored
from churnwatch.models.state import DAY, CustomerState, Prior
from churnwatch.models.vocabulary import SEVERITIES, SIGNAL_NAMES, TIERS, Severity, Tier
from churnwatch.signals.detection import DetectionSettings

CODES: dict[str, int] = {name: code for code, name in enumerate(SIGNAL_NAMES)}
"""Each signal's compact code in state (``fired``, ``open_mask``): its position."""


def known_signal(name: str) -> str:
    """``name`` if it is a signal; else a ValueError naming the likely one and all of them,
    so that a test asserting on a misspelt signal fails instead of passing vacuously."""
    if name in CODES:
        return name
    guess = difflib.get_close_matches(name.replace("-", "_").lower(), SIGNAL_NAMES, n=1)
    hint = f"did you mean {guess[0]!r}? " if guess else ""
    raise ValueError(f"unknown signal {name!r}: {hint}(signals: {', '.join(SIGNAL_NAMES)})")



Evidence = dict[str, float | int | str | bool | None]


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    text: str


@dataclass(frozen=True, slots=True)
class Finding:
    """What a signal concluded. ``key`` names the trigger: same trigger, same alert id."""

    signal: str
    key: str
    severity: Severity
    reasons: tuple[Reason, ...]
    evidence: Evidence


@dataclass(slots=True)
class Context:
    """One item as the signals see it. The engine fills in the rolling window and the
    classification up front: every item records them, so nothing is saved by waiting."""

    customer_id: str
    now: float
    trigger: AnyEvent | None
    before: Prior
    state: CustomerState
    view: PopulationView
    settings: DetectionSettings
    window: tuple[int, int]
    """Rolling (F, M cents) as of now."""
    segment: str
    """The RFM segment as of now."""
    tier: Tier
    _rfm: RfmSnapshot | None = field(default=None, repr=False)

    @property
    def rfm(self) -> RfmSnapshot:
        """R, F, M with their scores: what an alert shows."""
        if self._rfm is None:
            self._rfm = scored(self.state, self.now, self.view, self.window, self.segment,
                               self.tier)
        return self._rfm


TIME = type(None)
"""The trigger type of a time-driven review (``Context.trigger`` is None)."""


class Signal:
    """Base of every signal: a name, ``evaluate`` and, for silence-type signals, a deadline.

    ``reads`` names the triggers (event classes, ``TIME`` for a review) on which the signal
    can find something; the engine runs it on no other, so for any other it must find
    nothing. None: every item. ``timed``: it overrides ``deadline``; the engine asks only
    those."""

    name: ClassVar[str]
    reads: ClassVar[tuple[type, ...] | None] = None
    timed: ClassVar[bool] = False

    @property
    def code(self) -> int:
        return CODES[self.name]

    def evaluate(self, ctx: Context) -> Finding | None:
        raise NotImplementedError

    def deadline(self, state: CustomerState, settings: DetectionSettings) -> int:
        """Event time at which this signal must look again without a new event; 0 = never."""
        return 0


def tiered(base: Severity, ctx: Context) -> Severity:
    """Raise severity one step for the two highest value tiers (they get faster service)."""
    step = 1 if ctx.tier in TIERS[:2] else 0
    return SEVERITIES[min(SEVERITIES.index(base) + step, len(SEVERITIES) - 1)]


def days(seconds: float) -> float:
    return round(seconds / DAY, 1)
