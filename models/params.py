"""Fitted model parameters as one versioned JSON document.

Every worker scores with the same parameters because they all load the same file, and
every alert names the file's ``version`` (a digest of its content), so a score can be
traced to the fit that produced it. The package ships a default fitted to the CDNOW
sample (``models/default_model.json``); ``churnwatch fit`` makes one from the shop's log.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, Field

from churnwatch.models.clv import GammaGammaParams, MbgNbdParams
from churnwatch.models.population import Population
from churnwatch.models.risk import RiskModel

FORMAT = "churnwatch.model/1"


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MbgNbdDoc(_Doc):
    r: float = Field(gt=0)
    alpha: float = Field(gt=0)
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    log_likelihood: float
    customers: int


class GammaGammaDoc(_Doc):
    p: float = Field(gt=0)
    q: float = Field(gt=1)
    gamma: float = Field(gt=0)
    log_likelihood: float
    customers: int


class RiskDoc(_Doc):
    horizon_weeks: float = Field(gt=0)
    feature_weeks: float = Field(gt=0)
    names: tuple[str, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    customers: int = Field(description="training customers")
    churn_rate: float = Field(description="share of them who did not buy in the horizon")


class RecalibrationDoc(_Doc):
    """A monotone map of the risk's log-odds, ``slope * z + offset`` (Platt scaling),
    fitted by ``churnwatch fit --recalibrate`` to the settled risks of a window of a log:
    the ranking stays, the level follows what customers did."""

    slope: float = Field(gt=0)
    offset: float
    predictions: int = Field(description="settled risks it was fitted to")
    made_from: str = Field(description="the earliest of them was made (RFC 3339)")
    made_to: str = Field(description="the latest of them was made (RFC 3339)")
    ece_before: float
    ece_after: float = Field(description="on the same risks: in sample")


class PopulationDoc(_Doc):
    """The population statistics of the fitted log at its end, for classifying against a
    fixed population (``detection.population.mode = fitted``)."""

    window_days: float = Field(gt=0, description="rolling window of F and M they were taken with")
    customers: int = Field(ge=1, description="buying customers")
    sums: tuple[int, int, int] = Field(description="of last order time, F and M cents")
    bins: dict[str, list[list[int]]] = Field(
        description="non-empty bins, [bin, count], of the last, f and m histograms")

    def population(self) -> Population:
        return Population.from_sparse([self.customers, *self.sums], self.bins)


class Provenance(_Doc):
    log: str = Field(description="file name of the fitted log")
    as_of: str = Field(description="event time the fit saw up to (RFC 3339)")
    train_cutoff: str = Field(description="where the risk's training features were taken")


class ModelDoc(_Doc):
    format: str = FORMAT
    version: str = Field("", description="digest of everything else; set by seal()")
    fitted: Provenance
    mbgnbd: MbgNbdDoc
    gamma_gamma: GammaGammaDoc
    risk: RiskDoc
    population: PopulationDoc | None = None  # files fitted before 0.3 have none
    recalibration: RecalibrationDoc | None = None

    def seal(self) -> ModelDoc:
        # without None fields, so that a file fitted before a field existed keeps its version
        body = orjson.dumps(self.model_dump(exclude={"version"}, exclude_none=True),
                            option=orjson.OPT_SORT_KEYS)
        return self.model_copy(update={"version": hashlib.sha256(body).hexdigest()[:12]})

    def dump(self) -> bytes:
        return orjson.dumps(self.model_dump(exclude_none=True),
                            option=orjson.OPT_INDENT_2) + b"\n"

    @property
    def mbg(self) -> MbgNbdParams:
        m = self.mbgnbd
        return MbgNbdParams(m.r, m.alpha, m.a, m.b)

    @property
    def gg(self) -> GammaGammaParams:
        g = self.gamma_gamma
        return GammaGammaParams(g.p, g.q, g.gamma)

    @property
    def risk_model(self) -> RiskModel:
        r = self.risk
        c = self.recalibration
        return RiskModel(r.horizon_weeks, r.feature_weeks, r.names, r.center, r.scale,
                         r.weights, r.intercept, *((c.slope, c.offset) if c else ()))


def load(path: Path) -> ModelDoc:
    """Read a parameter file; its version must match its content (no hand edits)."""
    doc = ModelDoc.model_validate_json(path.read_bytes())
    if doc.format != FORMAT:
        raise ValueError(f"{path}: format {doc.format!r}, expected {FORMAT!r}")
    if doc.seal().version != doc.version:
        raise ValueError(f"{path}: version {doc.version} does not match the content")
    return doc


@cache
def default() -> ModelDoc:
    with resources.as_file(resources.files("churnwatch.models") / "default_model.json") as path:
        return load(path)
