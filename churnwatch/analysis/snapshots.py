"""Replays a log and photographs every buyer at given event times (for fitting and evaluation).

The same Detector as ``churnwatch replay`` runs the log, so the features a model is fitted
and evaluated on are exactly those the streaming workers score alerts with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from churnwatch.engine import Detector, customer
from churnwatch.models.events import parse_rfc3339
from churnwatch.models.population import Population
from churnwatch.models.risk import Customer
from churnwatch.replayer import valid_events
from churnwatch.settings import Settings


@dataclass(frozen=True, slots=True)
class Photo:
    customer: Customer
    last_order: int
    alerted_since: int  # first rule alert since the last purchase, 0 if none


class Snapshot(dict[str, Photo]):
    """Photos by customer id, and the population statistics they were classified with."""

    def __init__(self, photos: dict[str, Photo], population: Population) -> None:
        super().__init__(photos)
        self.population = population


def time_span(log: Path) -> tuple[float, float]:
    """(first, last) event time of a log, read without validating whole events."""
    first, last = float("inf"), float("-inf")
    with log.open("rb") as src:
        for line in src:
            try:
                ts = parse_rfc3339(orjson.loads(line)["occurred_at"]).timestamp()
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
            first, last = min(first, ts), max(last, ts)
    if first > last:
        raise ValueError(f"{log}: no event with a readable occurred_at")
    return first, last


def photograph(detector: Detector, at: float) -> Snapshot:
    """Every customer who had bought before ``at``, as of ``at``."""
    return Snapshot({cid: Photo(customer(st, at), st.last_order, st.open_since)
                     for cid, st in detector.states.items()
                     if st.first_order and st.first_order < at},
                    Population().merged([detector.population]))


def snapshots(log: Path, settings: Settings, times: list[float]) -> list[Snapshot]:
    """Photos at each time, in the order given. Events before a time are all in its photo:
    a photo is taken once the watermark passes it, before anything later is processed."""
    detector = Detector(settings)
    order = sorted(range(len(times)), key=times.__getitem__)
    photos: dict[int, Snapshot] = {}

    def take_due(final: bool) -> None:
        while order and (final or detector.watermark > times[order[0]]):
            i = order.pop(0)
            detector.advance(times[i])
            photos[i] = photograph(detector, times[i])

    for event in valid_events(log, settings.detection.event_time):
        detector.ingest(event)
        take_due(final=False)
        detector.advance()
    take_due(final=True)
    return [photos[i] for i in range(len(times))]
