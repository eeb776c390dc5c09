"""Event logs for the streaming tests, and what replay makes of them."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import orjson

from churnwatch.engine import Detector
from churnwatch.models.events import InvalidEvent, parse_event
from churnwatch.models.state import CustomerState
from churnwatch.replayer import replay_files, valid_events
from churnwatch.settings import EventTimeSettings, Settings
from churnwatch.simulate.generate import generate

POPULATION_SIGNALS = {"segment_at_risk"}
"""Signals decided on population statistics, which streaming merges across partitions
later than replay sees them (every tick instead of every update)."""


def make_log(tmp: Path, customers: int = 150, days: int = 365, seed: int = 5,
             noise: bool = True) -> Path:
    """A generated log (with noise: duplicates, reordering, invalid lines), closed by
    filler visits a day after the last event so that event time moves past every real
    event in replay and streaming alike (enough of them to be a share of the customers)."""
    log = tmp / "log.jsonl"
    generate(log, tmp / "labels.jsonl", customers=customers, days=days, seed=seed,
             start=datetime(2024, 1, 1, tzinfo=UTC), noise=noise)
    end = max(_event_time(line) for line in log.open("rb")) + 86_400
    with log.open("ab") as f:
        f.writelines(line + b"\n" for line in closing_visits("filler", end, customers))
    return log


def closing_visits(name: str, at: float, customers: int = 0) -> list[bytes]:
    """Visits at ``at`` by as many filler customers as it takes to move event time there
    past a log of ``customers``: the quorum, and a share of them all (with room to spare:
    the fillers count among those active too)."""
    rule = EventTimeSettings()
    return [visit(f"{name}-{i}", f"zz-filler-{i}", at)
            for i in range(rule.quorum + math.ceil(rule.share * customers * 1.2))]


def visit(event_id: str, customer: str, ts: float) -> bytes:
    """One visit at event time ``ts``, as a JSON line."""
    return orjson.dumps({"kind": "engagement", "event_id": event_id, "customer_id": customer,
                         "occurred_at": datetime.fromtimestamp(ts, UTC).isoformat(),
                         "action": "visit"})


def _event_time(line: bytes) -> float:
    try:
        return parse_event(line.rstrip()).ts
    except InvalidEvent:
        return 0.0


def stable_ids(alerts: list[dict]) -> set[str]:
    """Ids streaming reproduces exactly: neither population-based nor a ``recovered``,
    which may close a population-based alert."""
    return {a["id"] for a in alerts
            if a["data"]["signal"] not in POPULATION_SIGNALS | {"recovered"}}


def replay_alerts(log: Path, tmp: Path, settings: Settings) -> list[dict]:
    """Replay's alerts for the recall topic (the held-out ones: ``replay_held_out``)."""
    out = tmp / "replay-alerts.jsonl"
    replay_files(log, out, tmp / "replay-customers.jsonl", settings=settings, progress=False,
                 holdout=tmp / "replay-holdout.jsonl")
    return [orjson.loads(line) for line in out.open("rb")]


def replay_held_out(tmp: Path) -> list[dict]:
    """The held-out alerts of the last ``replay_alerts`` in ``tmp``."""
    return [orjson.loads(line) for line in (tmp / "replay-holdout.jsonl").open("rb")]


def replay_late(log: Path, tmp: Path, settings: Settings) -> int:
    """How many events replay refuses as late (beyond the allowed lateness)."""
    result = replay_files(log, tmp / "late-alerts.jsonl", tmp / "late-customers.jsonl",
                    settings=settings, progress=False)
    return result.counts.late


def replay_states(log: Path, settings: Settings, *, finish: bool = True
                  ) -> dict[str, CustomerState]:
    """Every customer's state after replaying ``log``; without ``finish``, as a worker
    holds it: items inside the allowed lateness of the newest event still pending."""
    detector = Detector(settings)
    for event in valid_events(log):
        detector.ingest(event)
        detector.advance()
    if finish:
        detector.finish()
    return detector.states


def event_time_of(lines: list[bytes], settings: Settings) -> float:
    """Where event time stands once ``lines`` have all been taken in (before replay's end
    of input runs the customers still ahead): where a worker's idle clock stops."""
    detector = Detector(settings)
    for line in lines:
        try:
            detector.ingest(parse_event(line.rstrip()))
        except InvalidEvent:
            continue
    return detector.census.end()


def ids(alerts: list[dict], *, population: bool | None = None) -> set[str]:
    return {a["id"] for a in alerts
            if population is None or (a["data"]["signal"] in POPULATION_SIGNALS) == population}
