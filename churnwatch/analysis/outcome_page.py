"""The outcome report as one self-contained HTML page with its plots drawn as inline SVG.

Three plots (churnwatch/analysis/svg.py): win-back of treated and held-out alerts per
signal with 95 % intervals, response times against each tier's window, and the
incremental revenue of treated alerts over time; the report's table below them.
"""

from __future__ import annotations

from html import escape

from churnwatch.analysis.outcomes import ALL, OutcomeReport, Row, p_value, verdicts
from churnwatch.analysis.svg import (
    CHECK_DRAWN,
    STYLE,
    WIDTH,
    Scale,
    axis_x,
    chart,
    legend,
    month_ticks,
)

TREATED, HELD, UNSURE = "#1f77b4", "#ff7f0e", "#c8c8c8"


def page(report: OutcomeReport) -> str:
    rows = [r for r in report.rows if r.tier == ALL and r.action == ALL]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>churnwatch outcomes</title>
<style>
{STYLE}
td:nth-child(-n+3), th:nth-child(-n+3) {{ text-align: left; }}
.verdicts td {{ text-align: left; }}
</style></head>
<body data-charts="3">
<h1>Did acting on alerts win customers back?</h1>
<p class="note">{report.closed:,} alerts whose {report.attribution_days:g}-day attribution
window closed. Won back: the customer bought again within the window. Treated alerts are
compared with held-out ones (intention to treat); groups under {report.min_group} alerts
show no rate.</p>
<h2>What to do</h2>
{_verdicts(report)}
<h2>Win-back rate per signal, treated vs held out (95 % intervals)</h2>
{_winback(rows)}
<h2>Response time to treated alerts against each tier's window</h2>
<p class="note">Late: answered after the tier's window. (Overdue, in the text report and
the <code>follow_up_overdue</code> alert: still unanswered when the window passed.)</p>
{_responses(report)}
<h2>Incremental revenue of treated alerts, cumulative by month{
    f" ({escape(report.currency)})" if report.currency else ""}</h2>
<p class="note">Up to each month: per signal, its treated alerts so far times the difference
in revenue per alert between treated and held-out alerts so far; shaded, its 95 % interval.
Below zero, the treated brought in less so far than the held-out baseline: chance while the
groups are small (the band then reaches across zero), or a play that does not pay (the band
stays below). Each signal's revenue per alert with its interval is in the table below.</p>
{_saved(report)}
<h2>All comparisons</h2>
{_table(report.rows, report.currency)}
{CHECK_DRAWN}
</body></html>
"""


def _words(signal: str) -> str:
    """A signal's name for people; its identifier stays beside it where it is a key."""
    return signal.replace("_", " ")


def _verdicts(report: OutcomeReport) -> str:
    """Per signal: keep, stop, or why neither can be said (95 % intervals in parentheses)."""
    body = "".join(f"<tr><td>{escape(_words(v.signal))} <code>{escape(v.signal)}"
                   f"</code></td><td><b>{escape(v.decision)}</b></td><td>{escape(v.why)}"
                   "</td></tr>" for v in verdicts(report))
    return (f"<table class=\"verdicts\"><tr><th>signal</th><th>decision</th>"
            f"<th>from (95 % intervals in parentheses)</th></tr>{body}</table>")


def _winback(rows: list[Row]) -> str:
    line = 28
    height = 30 + line * len(rows)
    left, right = 160, WIDTH - 20
    x = Scale(0.0, 1.0, left, right)
    parts = [axis_x(x, left, right, height - 12, [i / 5 for i in range(6)], "{:.0%}")]
    for n, row in enumerate(rows):
        y = 20 + n * line
        parts.append(f'<text x="{left - 8}" y="{y + 9}" text-anchor="end">'
                     f'{escape(_words(row.signal))}</text>')
        # a comparison without enough alerts is drawn grey: its bars are no result
        colours = (TREATED, HELD) if row.uplift is not None else (UNSURE, UNSURE)
        for offset, group, colour in ((0, row.treated, colours[0]),
                                      (11, row.held_out, colours[1])):
            if not group.n:
                continue
            lo, hi = group.interval
            cy = y + offset
            parts.append(f'<rect class="mark" x="{left}" y="{cy}" height="8" '
                         f'width="{x(group.rate) - left:.1f}" fill="{colour}"/>')
            parts.append(f'<line class="mark" x1="{x(lo):.1f}" x2="{x(hi):.1f}" '
                         f'y1="{cy + 4}" y2="{cy + 4}" stroke="#000"/>')
        if row.uplift is None:
            parts.append(f'<text x="{left - 8}" y="{y + 20}" text-anchor="end" '
                         'font-style="italic">not enough data</text>')
    key = legend([("treated", TREATED), ("held out", HELD)], WIDTH - 180, 10)
    return chart("winback", height, [*parts, key])


def _responses(report: OutcomeReport) -> str:
    tiers = [t for t in report.responses if t.hours]
    line = 34
    height = 70 + line * max(1, len(tiers))
    left, right = 110, WIDTH - 20
    longest = max([t.window_hours * 4 for t in tiers] + [h for t in tiers for h in t.hours]
                  + [2.0])
    x = Scale(0.05, longest, left, right, log=True)
    ticks = [v for v in (0.1, 0.5, 1, 4, 24, 48, 168, 720) if v <= longest]
    parts = [axis_x(x, left, right, height - 52, ticks, "{:g} h")]
    for n, t in enumerate(tiers):
        y = 20 + n * line
        p10, p50, p90 = t.percentile(0.1) or 0.0, t.median_hours or 0.0, t.percentile(0.9) or 0.0
        window = x(t.window_hours)
        # near the right edge the note ends at the window line instead of starting there
        near_edge = window > right - 130
        parts += [
            f'<text x="{left - 8}" y="{y + 12}" text-anchor="end">{t.tier} '
            f'({t.answered})</text>',
            f'<rect class="mark" x="{x(p10):.1f}" y="{y}" height="16" '
            f'width="{max(1.0, x(p90) - x(p10)):.1f}" fill="{TREATED}" opacity="0.4"/>',
            f'<line class="mark" x1="{x(p50):.1f}" x2="{x(p50):.1f}" y1="{y}" '
            f'y2="{y + 16}" stroke="{TREATED}" stroke-width="3"/>',
            f'<line x1="{window:.1f}" x2="{window:.1f}" y1="{y - 3}" '
            f'y2="{y + 19}" stroke="#d62728" stroke-width="2"/>',
            f'<text x="{window + (-4 if near_edge else 4):.1f}" y="{y - 2}" class="note" '
            f'text-anchor="{"end" if near_edge else "start"}">'
            f'window {t.window_hours} h, {t.late} late</text>']
    if not tiers:
        parts.append(f'<text x="{left}" y="30">no action was reported</text>')
    key = legend([("10th-90th percentile, median", TREATED), ("tier window", "#d62728")],
                 left, height - 30)
    return chart("responses", height, [*parts, key])


def _saved(report: OutcomeReport) -> str:
    height, top, bottom = 220, 15, 190
    left, right = 90, WIDTH - 20
    months = report.saved_by_month
    if not months:
        return chart("saved", 60, ['<text x="90" y="30">no attribution window has closed'
                                  '</text>'])
    lows, highs = [s.interval[0] for s in months], [s.interval[1] for s in months]
    lo, hi = min(0.0, *lows), max(0.0, *highs)
    y = Scale(lo, hi if hi > lo else lo + 1, bottom, top)
    x = Scale(0, max(1, len(months) - 1), left, right)
    curve = " ".join(f"{x(i):.1f},{y(s.cumulative):.1f}" for i, s in enumerate(months))
    band = " ".join([f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(highs)]
                    + [f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(lows)))])
    parts = [f'<polygon class="band" points="{band}" fill="{TREATED}" fill-opacity="0.18" '
             'stroke="none"/>',
             f'<line x1="{left}" x2="{right}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
             'stroke="#999"/>',
             f'<polyline class="mark" points="{curve}" fill="none" stroke="{TREATED}" '
             'stroke-width="2"/>',
             f'<text x="{left - 6}" y="{y(hi) + 4:.1f}" text-anchor="end">{hi:,.0f}</text>',
             f'<text x="{left - 6}" y="{y(lo) + 4:.1f}" text-anchor="end">{lo:,.0f}</text>']
    if lo < 0 < hi:  # the line the curve is read against
        parts.append(f'<text x="{left - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>')
    parts += [f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="'
              f'{"end" if i == len(months) - 1 else "middle"}">{months[i].month}</text>'
              for i in month_ticks(len(months))]
    return chart("saved", height, parts)


def _table(rows: list[Row], currency: str) -> str:
    head = ("<tr><th>signal</th><th>tier</th><th>action</th><th>treated</th>"
            "<th>held out</th><th>uplift</th><th>95 % interval</th><th>p</th>"
            f"<th>revenue / alert{f' ({currency})' if currency else ''}</th></tr>")
    body = []
    for r in rows:
        cells = [f"{_words(r.signal)} ({r.signal})", r.tier, r.action,
                 f"{r.treated.won}/{r.treated.n}",
                 f"{r.held_out.won}/{r.held_out.n}"]
        if r.uplift is None:
            cells += ["not enough data", "", "", ""]
        else:
            u = r.uplift
            cells += [f"{u.difference:+.1%}", f"{u.interval[0]:+.1%} to {u.interval[1]:+.1%}",
                      p_value(u.p_value), f"{u.revenue_per_alert:+,.2f} "
                      f"({u.revenue_interval[0]:+,.2f} to {u.revenue_interval[1]:+,.2f})"]
        body.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(body)}</table>"
