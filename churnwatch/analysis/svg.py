"""What the self-contained report pages share: plots drawn as inline SVG, their style, and
a few lines of script that check, once the page is laid out, that every plot has drawn
marks, and record the count on the page (``data-rendered``; the browser tests read it).
No script library, no fonts or files from elsewhere: a page opens from a mail attachment
or an artefact store as it is."""

from __future__ import annotations

import math
from html import escape

WIDTH = 760
STYLE = f"""body {{ font: 14px system-ui, sans-serif; margin: 2em auto; max-width: {WIDTH + 40}px;
       color: #222; }}
h1 {{ font-size: 1.4em; }} h2 {{ font-size: 1.1em; margin-top: 2em; }}
svg {{ display: block; }} text {{ font: 12px system-ui, sans-serif; fill: #333; }}
table {{ border-collapse: collapse; font-size: 12px; }}
td, th {{ padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }}
.note {{ color: #666; }}"""
CHECK_DRAWN = """<script>
window.addEventListener("load", () => {
  const drawn = [...document.querySelectorAll("svg.chart")].filter(
    svg => svg.querySelectorAll(".mark").length > 0 && svg.getBBox().width > 0);
  document.body.dataset.rendered = String(drawn.length);
});
</script>"""


def chart(name: str, height: int, parts: list[str]) -> str:
    return (f'<svg class="chart" data-chart="{name}" xmlns="http://www.w3.org/2000/svg" '
            f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img">'
            + "".join(parts) + "</svg>")


def legend(items: list[tuple[str, str]], x: float, y: float) -> str:
    return "".join(f'<rect x="{x}" y="{y + 16 * i}" width="10" height="10" fill="{c}"/>'
                   f'<text x="{x + 14}" y="{y + 9 + 16 * i}">{escape(label)}</text>'
                   for i, (label, c) in enumerate(items))


def axis_x(x: Scale, left: float, right: float, y: float, ticks: list[float],
            fmt: str) -> str:
    marks = "".join(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y - 4}" y2="{y}" '
                    f'stroke="#999"/><text x="{x(t):.1f}" y="{y + 11}" '
                    f'text-anchor="middle">{fmt.format(t)}</text>' for t in ticks)
    return f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="#999"/>{marks}'


class Scale:
    """Maps a value to a pixel position, linearly or on a log axis."""

    def __init__(self, lo: float, hi: float, a: float, b: float, log: bool = False) -> None:
        self.log = log
        self.lo, self.hi = (math.log(lo), math.log(hi)) if log else (lo, hi)
        self.a, self.b = a, b

    def __call__(self, value: float) -> float:
        if self.log:
            value = math.log(max(value, math.exp(self.lo)))
        return self.a + (value - self.lo) / (self.hi - self.lo) * (self.b - self.a)


def month_ticks(count: int, most: int = 8) -> list[int]:
    """Which of ``count`` months get a label: evenly spaced, the last always, and never
    two closer than the spacing (the last used to overlap the one before)."""
    step = max(1, -(-count // most))  # ceiling: at most ``most`` + 1 labels
    ticks = list(range(0, count, step))
    if ticks[-1] != count - 1:
        if count - 1 - ticks[-1] < step and len(ticks) > 1:
            ticks.pop()
        ticks.append(count - 1)
    return ticks
