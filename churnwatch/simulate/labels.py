"""Compare alerts with a generated log's ground-truth labels, signal by signal."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from churnwatch.errors import UserError

LABEL_KEYS = frozenset({"customer_id", "churns", "churn_at", "expected_signals"})
ALERT_KEYS = frozenset({"subject", "time", "data"})
CAMPAIGN = "campaign"
"""The key of the line ``generate --actions`` adds: the simulated campaign's truth."""


def labels_beside(log: Path) -> Path:
    """Where ``generate`` writes a log's labels unless told otherwise."""
    return log.with_name(log.name.removesuffix(".jsonl") + ".labels.jsonl")


def recorded_campaign(labels: Path) -> dict[str, Any] | None:
    """The line ``generate --actions`` added to ``labels`` (holdout share and salt, the
    truth per signal), or None if there is no such file or line."""
    if not labels.is_file():
        return None
    with labels.open("rb") as lines:
        for line in lines:
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # not ours to judge here: ``check`` says what is wrong with it
            if isinstance(row, dict) and CAMPAIGN in row:
                campaign: dict[str, Any] = row[CAMPAIGN]
                return campaign
    return None


@dataclass(frozen=True)
class SignalCheck:
    signal: str
    labelled: int  # customers whose drift this signal is meant to catch
    alerted: int  # customers with at least one alert of this signal
    confirmed: int  # labelled and alerted
    alerted_churners: int  # alerted customers who churn for any reason
    median_days_after_drift: float | None  # first alert vs labelled drift start

    @property
    def recall(self) -> float:
        return self.confirmed / self.labelled if self.labelled else 0.0

    @property
    def churn_precision(self) -> float:
        return self.alerted_churners / self.alerted if self.alerted else 0.0


def check(alerts_path: Path, labels_path: Path) -> list[SignalCheck]:
    labels = {row["customer_id"]: row
              for row in _rows(labels_path, LABEL_KEYS, "labels", skip=CAMPAIGN)}
    first: dict[str, dict[str, datetime]] = defaultdict(dict)
    for alert in _rows(alerts_path, ALERT_KEYS, "alerts"):
        when = datetime.fromisoformat(alert["time"])
        first[alert["data"]["signal"]].setdefault(alert["subject"], when)
    signals = sorted({s for row in labels.values() for s in row["expected_signals"]} | set(first))
    results = []
    for signal in signals:
        if signal == "recovered":
            continue
        expected = {c for c, row in labels.items() if signal in row["expected_signals"]}
        alerted = first.get(signal, {})
        confirmed = expected & alerted.keys()
        delays = [
            (alerted[c] - datetime.fromisoformat(labels[c]["churn_at"])).total_seconds() / 86400
            for c in confirmed if labels[c]["churn_at"]
        ]
        results.append(SignalCheck(
            signal=signal, labelled=len(expected), alerted=len(alerted),
            confirmed=len(confirmed),
            alerted_churners=sum(1 for c in alerted if labels.get(c, {}).get("churns")),
            median_days_after_drift=round(statistics.median(delays), 1) if delays else None))
    return results


def _rows(path: Path, keys: frozenset[str], what: str, skip: str | None = None
          ) -> Iterator[dict[str, Any]]:
    """JSON objects with at least ``keys`` (an object with the key ``skip`` is passed
    over); anything else is a wrong file, said plainly."""
    with path.open("rb") as f:
        for n, line in enumerate(f, 1):
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                row = None
            if isinstance(row, dict) and skip in row:
                continue
            if not isinstance(row, dict) or not keys <= row.keys():
                raise UserError(
                    f"{path} line {n} is not a line of {what} (expected the keys "
                    f"{', '.join(sorted(keys))}).\n  Usage: churnwatch confirm ALERTS.jsonl "
                    "LABELS.jsonl (alerts from `replay`, labels from `generate`)")
            yield row
