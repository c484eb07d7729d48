"""Charts drawn on the server as accessible SVG: pure functions from numbers to an SVG string.

Every chart carries `role="img"`, a `<title>` and a `<desc>` (referenced by `aria-labelledby`),
axis labels and readable tick values; colours come from the Okabe–Ito palette, which stays
distinguishable with the common colour-vision deficiencies, and lines also differ by dash pattern
and marker. No inline styles: only SVG presentation attributes and classes (styled by
`opendata/opendata.css`). All text is XML-escaped. The page shows the same numbers in a table
beside the chart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

# Okabe & Ito (2008), "Color Universal Design"; black last.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 4", "1 2", "10 4", "3 6")
MAX_LABEL = 26


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def format_number(value: float | None) -> str:
    """Spanish (es-MX) figures for ticks and tables: 1,234 · 1,234.5 · 2.5 M."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if abs(value) >= 10_000_000:
        return f"{value / 1_000_000:,.1f} M".replace(".0 M", " M")
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.floor(lo / step) * step
    ticks: list[float] = []
    i = 0
    while True:
        value = round(start + i * step, 10)
        ticks.append(value)
        if value >= hi - step * 1e-9 or i > 50:
            break
        i += 1
    return ticks


def _short(label: str, limit: int = MAX_LABEL) -> str:
    label = " ".join(str(label).split())
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _open(width: int, height: int, chart_id: str, title: str, description: str, kind: str) -> list[str]:
    ids = f"{chart_id}-title {chart_id}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart--{kind}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby={quoteattr(ids)} font-family="sans-serif" font-size="13">',
        f'<title id={quoteattr(chart_id + "-title")}>{escape(title)}</title>',
        f'<desc id={quoteattr(chart_id + "-desc")}>{escape(description)}</desc>',
    ]


def _legend(series: Sequence[Series], x: float, y: float, *, lines: bool) -> list[str]:
    out = ['<g class="chart__legend">']
    for i, s in enumerate(series):
        colour, top = PALETTE[i % len(PALETTE)], y + i * 18
        if lines:
            dash = f' stroke-dasharray="{DASHES[i % len(DASHES)]}"' if DASHES[i % len(DASHES)] else ""
            out.append(f'<line x1="{x:.1f}" y1="{top + 6:.1f}" x2="{x + 18:.1f}" y2="{top + 6:.1f}" '
                       f'stroke="{colour}" stroke-width="3"{dash}/>')
        else:
            out.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 24:.1f}" y="{top + 11:.1f}">{escape(_short(s.name, 40))}</text>')
    out.append("</g>")
    return out


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def bar_chart(categories: Sequence[str], series: Sequence[Series], *, title: str, description: str,
              x_label: str, y_label: str, chart_id: str = "grafica", width: int = 640) -> str:
    """Horizontal bars (long category names stay readable on a phone): one band per category,
    one bar per series inside it. `x_label` names the categories, `y_label` the values."""
    n, k = len(categories), max(len(series), 1)
    band = max(22, 10 + 14 * k)
    left, right, top = 190, 24, 24
    legend_h = 18 * len(series) + 8 if len(series) > 1 else 0
    plot_h = max(band * n, band)
    height = top + legend_h + plot_h + 56
    plot_top, plot_w = top + legend_h, width - left - right
    values = [v for s in series for v in _finite(s.values)]
    ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]) if values else 1.0)
    lo, hi = ticks[0], ticks[-1]

    def sx(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    out = _open(width, height, chart_id, title, description, "barras")
    out.append(f'<text class="chart__axis-label" x="12" y="{top - 8}" font-weight="bold">{escape(_short(x_label, 60))}</text>')
    if len(series) > 1:
        out += _legend(series, left, top, lines=False)
    out.append('<g class="chart__grid">')
    for t in ticks:
        x = sx(t)
        out.append(f'<line x1="{x:.1f}" y1="{plot_top}" x2="{x:.1f}" y2="{plot_top + plot_h}" stroke="#b1b4b6" stroke-width="1"/>')
        out.append(f'<text x="{x:.1f}" y="{plot_top + plot_h + 16}" text-anchor="middle">{escape(format_number(t))}</text>')
    out.append("</g>")
    out.append(f'<line x1="{sx(0 if lo <= 0 <= hi else lo):.1f}" y1="{plot_top}" x2="{sx(0 if lo <= 0 <= hi else lo):.1f}" '
               f'y2="{plot_top + plot_h}" stroke="#0b0c0c" stroke-width="1.5"/>')
    out.append(f'<text class="chart__axis-label" x="{left + plot_w / 2:.1f}" y="{plot_top + plot_h + 40}" '
               f'text-anchor="middle" font-weight="bold">{escape(_short(y_label, 70))}</text>')
    zero = sx(0 if lo <= 0 <= hi else lo)
    bar_h = (band - 8) / k
    for i, category in enumerate(categories):
        y0 = plot_top + i * band
        out.append(f'<text x="{left - 8}" y="{y0 + band / 2 + 4:.1f}" text-anchor="end">{escape(_short(category))}</text>')
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else None
            if value is None or not math.isfinite(float(value)):
                continue
            x1, x2 = sorted((zero, sx(float(value))))
            out.append(
                f'<rect class="bar" x="{x1:.1f}" y="{y0 + 4 + j * bar_h:.1f}" width="{max(x2 - x1, 0.5):.1f}" '
                f'height="{bar_h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(f'{category} · {s.name}: {format_number(float(value))}')}</title></rect>"
            )
    out.append("</svg>")
    return "".join(out)


def line_chart(categories: Sequence[str], series: Sequence[Series], *, title: str, description: str,
               x_label: str, y_label: str, chart_id: str = "grafica", width: int = 640, height: int = 360) -> str:
    """One line per series over categories in their given order (usually dates or years)."""
    n = len(categories)
    left, right, top = 72, 24, 24
    legend_h = 18 * len(series) + 8 if len(series) > 1 else 0
    plot_top = top + legend_h
    plot_h = height - plot_top - 64
    plot_w = width - left - right
    values = [v for s in series for v in _finite(s.values)]
    ticks = nice_ticks(min(values) if values else 0.0, max(values) if values else 1.0)
    if values and min(values) >= 0 and ticks[0] > 0 and ticks[0] <= (ticks[-1] - ticks[0]):
        ticks = nice_ticks(0.0, max(values))
    lo, hi = ticks[0], ticks[-1]

    def sx(i: int) -> float:
        return left + (plot_w / 2 if n <= 1 else i * plot_w / (n - 1))

    def sy(v: float) -> float:
        return plot_top + plot_h - (v - lo) / (hi - lo) * plot_h

    out = _open(width, height, chart_id, title, description, "lineas")
    out.append(f'<text class="chart__axis-label" x="8" y="{top - 8}" font-weight="bold">{escape(_short(y_label, 70))}</text>')
    if len(series) > 1:
        out += _legend(series, left, top, lines=True)
    out.append('<g class="chart__grid">')
    for t in ticks:
        y = sy(t)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#b1b4b6" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(format_number(t))}</text>')
    out.append("</g>")
    out.append(f'<line x1="{left}" y1="{plot_top + plot_h}" x2="{left + plot_w}" y2="{plot_top + plot_h}" stroke="#0b0c0c" stroke-width="1.5"/>')
    step = max(1, math.ceil(n / 6))
    for i in range(0, n, step):
        out.append(f'<text x="{sx(i):.1f}" y="{plot_top + plot_h + 18}" text-anchor="middle">{escape(_short(categories[i], 14))}</text>')
    out.append(f'<text class="chart__axis-label" x="{left + plot_w / 2:.1f}" y="{height - 12}" text-anchor="middle" '
               f'font-weight="bold">{escape(_short(x_label, 70))}</text>')
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        dash = DASHES[j % len(DASHES)]
        points = [(sx(i), sy(float(v))) for i, v in enumerate(s.values[:n]) if v is not None and math.isfinite(float(v))]
        if len(points) > 1:
            d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<path class="line" d="{d}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        if n <= 60:
            for i, v in enumerate(s.values[:n]):
                if v is None or not math.isfinite(float(v)):
                    continue
                out.append(f'<circle class="point" cx="{sx(i):.1f}" cy="{sy(float(v)):.1f}" r="3.5" fill="{colour}">'
                           f"<title>{escape(f'{categories[i]} · {s.name}: {format_number(float(v))}')}</title></circle>")
    out.append("</svg>")
    return "".join(out)
