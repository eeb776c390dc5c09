"""How much any purchase-history score can rank CDNOW churners: cross-validated AUC of the
same ridge-logistic as the risk score, over richer per-customer features than churnwatch
keeps, trained and tested on the evaluation customers themselves (an upper bound the
deployed score, trained one horizon earlier, cannot reach).

    python bench/risk_ceiling.py [CDNOW_sample.txt] [--cutoff 1997-09-30] [--weeks 39]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from churnwatch.analysis.evaluate import auc
from churnwatch.models.clv import History, expected_purchases, p_no_purchase
from churnwatch.models.estimation import Histories, fit_mbgnbd
from churnwatch.models.risk import train

Array = npt.NDArray[np.float64]
ROOT = Path(__file__).parents[1]
START = date(1997, 1, 1)

FEATURE_SETS = {
    "MBG/NBD log E[X] only": ["log_ex"],
    "log E[X], recency, repeats, order value (as churnwatch)": [
        "log_ex", "recency", "log_x", "log_value"],
    "+ age": ["log_ex", "recency", "log_x", "log_value", "age"],
    "+ purchases in the last 13 / 26 weeks": [
        "log_ex", "recency", "log_x", "log_value", "last13", "last26"],
    "+ overdue (recency / mean gap), gap CV, last gap": [
        "log_ex", "recency", "log_x", "log_value", "overdue", "gap_cv", "last_gap"],
    "+ CDs per order, last and first order value, total spend": [
        "log_ex", "recency", "log_x", "log_value", "cds", "last_value", "first_value",
        "total"],
    "all of the above + logit P(no purchase)": [
        "log_ex", "logit_p0", "recency", "log_x", "log_value", "age", "last13", "last26",
        "overdue", "gap_cv", "last_gap", "cds", "last_value", "first_value", "total"],
}


def read(path: Path) -> dict[str, list[tuple[int, int, float]]]:
    """customer -> [(day since 1997-01-01, CDs, dollars)] from a published text file."""
    rows: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for line in path.read_text().splitlines():
        parts = line.split()  # the sample has a second id column, the master a header
        if not parts[0].isdigit():
            continue
        cid, (day, cds, dollars) = parts[0], parts[-3:]
        when = date(int(day[:4]), int(day[4:6]), int(day[6:]))
        rows[cid].append(((when - START).days, int(cds), float(dollars)))
    return rows


def features(rows: dict[str, list[tuple[int, int, float]]], cutoff: int,
             weeks: float) -> tuple[dict[str, Array], Array]:
    cols: dict[str, list[float]] = defaultdict(list)
    churned = []
    for purchases in rows.values():
        before = sorted(p for p in purchases if p[0] < cutoff)
        if not before:
            continue
        spend: dict[int, float] = defaultdict(float)
        cds: dict[int, int] = defaultdict(int)
        for day, n, dollars in before:
            spend[day] += dollars
            cds[day] += n
        days = sorted(spend)
        x, gaps = len(days) - 1, np.diff(days)
        values = [spend[d] for d in days]
        cols["x"].append(x)
        cols["t_x"].append((days[-1] - days[0]) / 7)
        cols["age"].append((cutoff - days[0]) / 7)
        cols["recency"].append(np.log1p((cutoff - days[-1]) / 7))
        cols["log_x"].append(np.log1p(x))
        cols["log_value"].append(np.log1p(np.mean(values)))
        cols["last13"].append(sum(d >= cutoff - 91 for d in days))
        cols["last26"].append(sum(d >= cutoff - 182 for d in days))
        cols["overdue"].append(np.log1p((cutoff - days[-1]) / gaps.mean()) if x else 0.0)
        cols["gap_cv"].append(gaps.std() / gaps.mean() if x > 1 else 0.0)
        cols["last_gap"].append(np.log1p(gaps[-1]) if x else 0.0)
        cols["cds"].append(np.mean([cds[d] for d in days]))
        cols["last_value"].append(np.log1p(values[-1]))
        cols["first_value"].append(np.log1p(values[0]))
        cols["total"].append(np.log1p(sum(values)))
        churned.append(float(not any(cutoff <= p[0] < cutoff + 7 * weeks for p in purchases)))
    out = {k: np.array(v, dtype=float) for k, v in cols.items()}
    mbg, _ = fit_mbgnbd(Histories(out["x"], out["t_x"], out["age"]))
    hs = [History(int(x), t, a) for x, t, a in zip(out["x"], out["t_x"], out["age"], strict=True)]
    out["log_ex"] = np.log([max(expected_purchases(h, weeks, mbg), 1e-4) for h in hs])
    p0 = np.clip([p_no_purchase(h, weeks, mbg) for h in hs], 1e-6, 1 - 1e-6)
    out["logit_p0"] = np.log(p0 / (1 - p0))
    return out, np.array(churned)


def cross_validated_auc(x: Array, y: Array, weeks: float, repeats: int = 5,
                        folds: int = 5) -> float:
    """Mean over seeded repeats of the AUC of out-of-fold scores."""
    aucs = []
    for seed in range(repeats):
        fold = np.random.default_rng(seed).permutation(len(y)) % folds
        score = np.zeros(len(y))
        for k in range(folds):
            model = train(x[fold != k], y[fold != k], weeks,
                          names=tuple(f"f{i}" for i in range(x.shape[1])))
            score[fold == k] = [model.score(row) for row in x[fold == k]]
        aucs.append(auc(score, y))
    return float(np.mean(aucs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", nargs="?", type=Path,
                        default=ROOT / "tests/data/cdnow/CDNOW_sample.txt")
    parser.add_argument("--cutoff", default="1997-09-30", help="last day the scores see")
    parser.add_argument("--weeks", type=float, default=39.0)
    args = parser.parse_args()
    cutoff = (date.fromisoformat(args.cutoff) - START).days + 1
    cols, y = features(read(args.log), cutoff, args.weeks)
    print(f"{args.log.name}, cutoff {args.cutoff}, {args.weeks:g} weeks: {len(y)} customers, "
          f"{y.mean():.1%} churned")
    print(f"single scores: days since last purchase {auc(cols['recency'], y):.4f}, "
          f"MBG/NBD -E[X] {auc(-cols['log_ex'], y):.4f}")
    print("\n| features (5x5-fold cross-validated ridge logistic) | AUC |\n|---|---|")
    for name, keys in FEATURE_SETS.items():
        x = np.column_stack([cols[k] for k in keys])
        print(f"| {name} | {cross_validated_auc(x, y, args.weeks):.4f} |", flush=True)


if __name__ == "__main__":
    main()
