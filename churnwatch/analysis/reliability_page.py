"""The calibration report as one self-contained page (churnwatch/analysis/svg.py): per
horizon the verdict, a reliability diagram (observed churn against predicted risk per
decile, the diagonal being a true risk) and mean predicted against observed per month."""

from __future__ import annotations

from html import escape

from churnwatch.analysis import svg
from churnwatch.analysis.reliability import CalibrationReport, Horizon
from churnwatch.models.calibration import BINS

PREDICTED, OBSERVED = "#1f77b4", "#d62728"


def page(report: CalibrationReport) -> str:
    sections = "".join(_section(h) for h in report.horizons) or (
        "<p>No risk published by an alert has reached the end of its horizon yet.</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>churnwatch calibration</title>
<style>
{svg.STYLE}
td:first-child, th:first-child {{ text-align: left; }}
.verdict {{ font-size: 1.1em; }}
</style></head>
<body data-charts="{2 * len(report.horizons)}">
<h1>Is the risk still true?</h1>
<p class="note">Each alert publishes a churn risk: the probability that its customer buys
nothing within the horizon. Here every such risk whose horizon has closed is set against
what the customer did (risk model {escape(report.model)}).</p>
{sections}
{svg.CHECK_DRAWN}
</body></html>
"""


def _section(h: Horizon) -> str:
    o = h.overall
    auc = "n/a" if o.auc is None else f"{o.auc:.3f}"
    rows = "".join(
        f"<tr><td>{m.month}</td><td>{m.figures.predictions:,}</td>"
        f"<td>{m.figures.mean_predicted:.3f}</td><td>{m.figures.observed:.3f}</td>"
        f"<td>{m.figures.ece:.3f}</td></tr>" for m in h.months)
    return f"""<h2>{h.horizon_days:g}-day horizon</h2>
<p class="verdict">{escape(h.verdict[0].upper() + h.verdict[1:])}.</p>
<p class="note">{o.predictions:,} predictions settled, {o.churned:,} churned. ECE {o.ece:.3f},
Brier {o.brier:.4f}, AUC {auc}.</p>
{_diagram(h)}
<h2>Predicted and observed churn by month of prediction ({h.horizon_days:g} days)</h2>
{_months(h)}
<table><tr><th>made in</th><th>settled</th><th>predicted</th><th>observed</th><th>ECE</th>
</tr>{rows}</table>"""


def _diagram(h: Horizon) -> str:
    """Observed churn against mean predicted risk per decile; dots sized by settled
    predictions, the diagonal is where a true risk lies."""
    size = 340
    left, top, bottom, right = 60, 20, size - 40, 60 + size - 60
    x, y = svg.Scale(0, 1, left, right), svg.Scale(0, 1, bottom, top)
    most = max((f.predictions for f in h.bins), default=1) or 1
    parts = [svg.axis_x(x, left, right, bottom, [i / 5 for i in range(6)], "{:.1f}"),
             f'<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="#999"/>',
             f'<line x1="{x(0):.1f}" y1="{y(0):.1f}" x2="{x(1):.1f}" y2="{y(1):.1f}" '
             'stroke="#bbb" stroke-dasharray="4 3"/>',
             f'<text x="{(left + right) / 2}" y="{bottom + 30}" text-anchor="middle">'
             'predicted risk</text>',
             f'<text x="14" y="{(top + bottom) / 2}" text-anchor="middle" '
             f'transform="rotate(-90 14 {(top + bottom) / 2})">churned</text>']
    parts += [f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.1f}</text>'
              for t in (0.5, 1)]  # 0 is the x axis's
    for b, f in enumerate(h.bins):
        if not f.predictions:
            continue
        radius = 3 + 9 * (f.predictions / most) ** 0.5
        parts.append(f'<circle class="mark" cx="{x(f.mean_predicted):.1f}" '
                     f'cy="{y(f.observed):.1f}" r="{radius:.1f}" fill="{OBSERVED}" '
                     f'fill-opacity="0.6"><title>risk {b / BINS:.1f}-{(b + 1) / BINS:.1f}: '
                     f'{f.predictions:,} settled, predicted {f.mean_predicted:.3f}, '
                     f'observed {f.observed:.3f}</title></circle>')
    return svg.chart("reliability", size, parts)


def _months(h: Horizon) -> str:
    height, left, right = 220, 60, svg.WIDTH - 20
    bottom, top = height - 40, 20
    count = len(h.months)
    x = svg.Scale(0, max(1, count - 1), left, right)
    y = svg.Scale(0, 1, bottom, top)
    parts = [f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#999"/>',
             f'<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="#999"/>']
    parts += [f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.0%}</text>'
              for t in (0, 0.5, 1)]
    parts += [f'<text x="{x(i):.1f}" y="{bottom + 14}" text-anchor='
              f'"{"end" if i == count - 1 and i else "middle"}">{h.months[i].month}</text>'
              for i in svg.month_ticks(count)]
    for colour, value in ((PREDICTED, "mean_predicted"), (OBSERVED, "observed")):
        points = " ".join(f"{x(i):.1f},{y(getattr(m.figures, value)):.1f}"
                          for i, m in enumerate(h.months))
        parts.append(f'<polyline class="mark" points="{points}" fill="none" '
                     f'stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x(i):.1f}" cy="{y(getattr(m.figures, value)):.1f}" r="2.5" '
                  f'fill="{colour}"/>' for i, m in enumerate(h.months)]
    parts.append(svg.legend([("mean predicted risk", PREDICTED), ("churned", OBSERVED)],
                        right - 170, top))
    return svg.chart("months", height, parts)
