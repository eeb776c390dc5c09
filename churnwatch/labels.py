"""Compare alerts with a generated log's ground-truth labels, signal by signal."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson


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
    labels = {}
    with labels_path.open("rb") as f:
        for line in f:
            row = orjson.loads(line)
            labels[row["customer_id"]] = row
    first: dict[str, dict[str, datetime]] = defaultdict(dict)
    with alerts_path.open("rb") as f:
        for line in f:
            alert = orjson.loads(line)
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
