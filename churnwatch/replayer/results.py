"""What a replay gives back: the alerts and lines found, the inputs refused, the counts,
and the bytes the CLI writes for each."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from churnwatch.engine import AlertOut, dead_letter_record
from churnwatch.models.alert import Alert
from churnwatch.models.attribution import AlertOutcome, Response
from churnwatch.models.calibration import Settled
from churnwatch.models.summary import CustomerSummary
from churnwatch.signals.base import known_signal


class InvalidInput(ValueError):
    """``replay(strict=True)`` met an input the contract refuses: where, and why."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An input that was not applied: where it was (1-based), why, and its original bytes."""

    line: int
    reason: str
    raw: bytes

    def to_json(self) -> bytes:
        """The line ``churnwatch replay --dead-letter`` writes for it."""
        return dead_letter_record(self.reason, self.raw, line=self.line)


@dataclass(frozen=True, slots=True)
class Counts:
    """What a replay read and did."""

    lines: int
    """non-blank input lines (or items)"""
    invalid: int
    """refused as invalid (each is a dead letter)"""
    accepted: int
    duplicates: int
    """repeated event ids, ignored"""
    late: int
    """behind their customer's evaluated time (each is a dead letter)"""
    out_of_time: int
    """event times refused as unbelievable (a dead letter each; engine/eventtime.py)"""
    customers: int
    alerts: Mapping[str, int]
    """alerts published, by signal"""
    suppressed: Mapping[str, int]
    """findings held back by governance, by reason"""
    held_out: Mapping[str, int] = field(default_factory=dict)
    """alerts (among ``alerts``) for the holdout group, by signal"""
    actions: Mapping[str, int] = field(default_factory=dict)
    """action reports: answered, repeat, unknown_alert"""
    untracked: int = 0
    """published risks not followed to their horizon: their customer had the most open"""

    @property
    def total_alerts(self) -> int:
        return sum(self.alerts.values())


@dataclass(frozen=True)
class ReplayResult:
    """Everything one in-memory replay produced, in the CLI's deterministic order."""

    alerts: list[Alert]
    """what marketing acts on (the recall topic)"""
    customers: list[CustomerSummary]
    dead_letters: list[DeadLetter]
    counts: Counts
    seconds: float = field(compare=False)
    held_out: list[Alert] = field(default_factory=list)
    """alerts for the holdout group (the shadow topic): measured, never acted on"""
    outcomes: list[AlertOutcome] = field(default_factory=list)
    """attribution windows that closed, in the order they closed"""
    responses: list[Response] = field(default_factory=list)
    """actions that answered an alert, in order"""
    settled: list[Settled] = field(default_factory=list)
    """published risks whose horizon closed, in the order they closed"""

    def alerts_for(self, customer_id: str, signal: str | None = None) -> list[Alert]:
        """The customer's alerts (of one signal: a name not in ``SIGNAL_NAMES`` raises)."""
        if signal is not None:
            known_signal(signal)
        return [a for a in self.alerts if a.subject == customer_id
                and (signal is None or a.data.signal == signal)]

    def signals_for(self, customer_id: str) -> list[str]:
        """The signals alerted for a customer, in order."""
        return [a.data.signal for a in self.alerts_for(customer_id)]

    def customer(self, customer_id: str) -> CustomerSummary:
        for line in self.customers:
            if line.customer_id == customer_id:
                return line
        raise KeyError(f"no customer {customer_id!r} in this replay")

    def outputs(self) -> dict[str, bytes]:
        """The bytes of the CLI's files, by kind: alerts, customers, dead-letter."""
        return {"alerts": b"".join(map(alert_line, self.alerts)),
                "customers": b"".join(map(summary_line, self.customers)),
                "dead-letter": b"".join(d.to_json() + b"\n" for d in self.dead_letters),
                "holdout": b"".join(map(alert_line, self.held_out))}

    def write(self, *, alerts: str | os.PathLike[str] | None = None,
              customers: str | os.PathLike[str] | None = None,
              dead_letter: str | os.PathLike[str] | None = None,
              holdout: str | os.PathLike[str] | None = None) -> None:
        """Write the files ``churnwatch replay`` writes, byte for byte."""
        outputs = self.outputs()
        for path, kind in ((alerts, "alerts"), (customers, "customers"),
                           (dead_letter, "dead-letter"), (holdout, "holdout")):
            if path is not None:
                Path(path).write_bytes(outputs[kind])


@dataclass(frozen=True)
class FileReport:
    """What :func:`replay_files` read and wrote."""

    counts: Counts
    seconds: float
    first_problem: str | None
    """the first dead letter, as ``line N: reason``"""

    @property
    def events_per_second(self) -> float:
        return self.counts.lines / self.seconds if self.seconds else 0.0


def alert_line(alert: AlertOut | Alert) -> bytes:
    """The engine's alerts (a file replay) and the API's models write the same bytes."""
    return (alert.json() if isinstance(alert, AlertOut) else
            alert.model_dump_json().encode()) + b"\n"


def summary_line(line: CustomerSummary) -> bytes:
    return line.model_dump_json().encode() + b"\n"
