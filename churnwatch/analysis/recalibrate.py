"""``churnwatch fit --recalibrate``: the risk's level brought back to what customers did,
without refitting.

The log is replayed with the current model stripped of any earlier recalibration, the
risks its alerts published and whose horizon closed within a window of prediction dates
are taken (models/calibration.py), and a monotone map of the log-odds (Platt scaling:
two numbers) is fitted to them by maximum likelihood and written into the model file.
Monotone, so which customers rank above which stays as it was (AUC unchanged up to the
four decimals an alert shows); only the level moves. Platt rather than isotonic: two
parameters are stable on a few hundred settled risks, and a step function would make
neighbouring customers tie.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from churnwatch.models import calibration
from churnwatch.models.alert import rfc3339
from churnwatch.models.calibration import PPM, Figures, Settled
from churnwatch.models.params import ModelDoc, RecalibrationDoc
from churnwatch.models.risk import probability
from churnwatch.replayer import replay
from churnwatch.settings import Settings

MIN_SETTLED = 100
"""Fewer settled risks than this in the window, and the map is refused: noise."""
RECENT_DAYS = 365
"""The default window: risks made in the year before the newest one that settled."""


@dataclass(frozen=True)
class Recalibrated:
    doc: ModelDoc
    before: Figures  # on the window's settled risks, as published
    after: Figures  # the same risks through the map (in sample)


def settled_risks(log: Path, settings: Settings) -> tuple[ModelDoc, list[Settled]]:
    """The current model without its recalibration, and what a replay of ``log`` with it
    settled."""
    raw = settings.risk.doc().model_copy(update={"recalibration": None, "version": ""}).seal()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.json"
        path.write_bytes(raw.dump())
        return raw, replay(log, settings=settings.changed("risk", params_file=path)).settled


def recalibrate(log: Path, settings: Settings, made_from: float | None = None,
                made_to: float | None = None) -> Recalibrated:
    """Fit the map to the risks made in ``[made_from, made_to)`` that settled in a replay
    of ``log`` (default: the :data:`RECENT_DAYS` before the newest one). Raises ValueError
    on fewer than :data:`MIN_SETTLED`."""
    raw, settled = settled_risks(log, settings)
    if made_from is None and settled:
        made_from = max(s.made_at for s in settled) - RECENT_DAYS * 86_400
    window = [s for s in settled if (made_from is None or s.made_at >= made_from)
              and (made_to is None or s.made_at < made_to)]
    if len(window) < MIN_SETTLED:
        raise ValueError(f"{len(window)} risks settled in that window: at least "
                         f"{MIN_SETTLED} are needed to recalibrate")
    slope, offset = calibration.platt(window)
    mapped = [mapped_risk(s, slope, offset) for s in window]
    before, after = calibration.of(window), calibration.of(mapped)
    doc = raw.model_copy(update={"version": "", "recalibration": RecalibrationDoc(
        slope=round(slope, 6), offset=round(offset, 6), predictions=len(window),
        made_from=_time(min(s.made_at for s in window)),
        made_to=_time(max(s.made_at for s in window)),
        ece_before=round(before.ece, 6), ece_after=round(after.ece, 6))}).seal()
    return Recalibrated(doc, before, after)


def mapped_risk(s: Settled, slope: float, offset: float) -> Settled:
    """The settled risk as the recalibrated model would have published it (four
    decimals, like an alert)."""
    p = min(max(s.risk, 1e-6), 1 - 1e-6)
    risk = probability(slope * math.log(p / (1 - p)) + offset)
    return replace(s, risk_ppm=round(round(risk, 4) * PPM))


def _time(seconds: int) -> str:
    return rfc3339(datetime.fromtimestamp(seconds, UTC))
