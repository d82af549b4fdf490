"""Inline SVG charts for the HTML report: bars, histograms, stacked bars and line charts.

Written by hand instead of with a plotting library so the report is one small file that opens offline
(no scripts, no CDN) and `synth` needs no plotting dependency. Coordinates are rounded to 0.1 px, so the
same statistics always give byte-identical SVG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from synth.report import fmt

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b", "#9d755d", "#bab0ac")
BAR = PALETTE[0]
REJECT = "#d6404e"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="11"'


def _r(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _svg(width: float, height: float, body: list[str], kind: str, title: str) -> str:
    return (f'<svg class="chart" data-chart="{kind}" role="img" xmlns="http://www.w3.org/2000/svg" '
            f'width="{_r(width)}" height="{_r(height)}" viewBox="0 0 {_r(width)} {_r(height)}" {FONT}>'
            f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "", fill: str = "#333") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{_r(x)}" y="{_r(y)}" text-anchor="{anchor}" fill="{fill}"{klass}>{escape(text)}</text>'


CHAR_PX = 6.6  # a generous average glyph width at font-size 11: labels clipped to this never leave their slot


def label(x: float, y: float, text: str, room_px: float, anchor: str = "end") -> str:
    """A row label that fits `room_px`: cut on the right with an ellipsis, the full text as its tooltip."""
    limit = max(4, int(room_px / CHAR_PX))
    shown = text if len(text) <= limit else text[:limit - 1] + "…"
    return (f'<text x="{_r(x)}" y="{_r(y)}" text-anchor="{anchor}" fill="#333"><title>{escape(text)}</title>'
            f"{escape(shown)}</text>")


def bars(items: Sequence[tuple[str, int]], title: str, color: str = BAR, width: int = 440) -> str:
    """Horizontal bars: one row per value, count and share at the end of the bar."""
    total = sum(c for _, c in items) or 1
    top = max((c for _, c in items), default=0) or 1
    label_w, row, pad = 150, 20, 6
    span = width - label_w - 90
    body = []
    for k, (name, count) in enumerate(items):
        y = pad + k * row
        w = max(1.0, span * count / top) if count else 0.0
        body.append(label(label_w - 6, y + 13, str(name), label_w - 10))
        body.append(f'<rect class="bar" x="{label_w}" y="{_r(y + 3)}" width="{_r(w)}" height="{row - 6}" fill="{color}"/>')
        body.append(_text(label_w + w + 5, y + 13, f"{fmt.number(count)} ({fmt.share(count, total)})", fill="#555"))
    return _svg(width, pad * 2 + row * len(items), body, "bars", title)


def histogram(bins: Sequence[tuple[float, float, int]], integer: bool, title: str, color: str = BAR,
              width: int = 440, height: int = 170) -> str:
    """Vertical bars over value bins, with the count axis and a few bin labels."""
    left, right, top, bottom = 40, 10, 10, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((c for _, _, c in bins), default=0) or 1
    body = _y_axis(left, top, plot_w, plot_h, 0, peak, integer_ticks=True)
    slot = plot_w / max(1, len(bins))
    for k, (lo, hi, count) in enumerate(bins):
        h = plot_h * count / peak
        x = left + k * slot
        body.append(f'<rect class="bar" x="{_r(x + 1)}" y="{_r(top + plot_h - h)}" width="{_r(max(1.0, slot - 2))}" '
                    f'height="{_r(h)}" fill="{color}"><title>{escape(fmt.bin_label(lo, hi, integer))}: {count}</title></rect>')
    for k in _label_slots(len(bins), max(2, int(plot_w // 70))):
        lo, hi, _ = bins[k]
        body.append(_axis_label(left + (k + 0.5) * slot, top + plot_h + 14, fmt.bin_label(lo, hi, integer), width))
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>')
    return _svg(width, height, body, "histogram", title)


def stacked(rows: dict[str, dict[str, int]], columns: Sequence[str], title: str, width: int = 440) -> str:
    """One 100% bar per row (e.g. verification check), split by column (status), with a legend."""
    colors = {c: _status_color(c, k) for k, c in enumerate(columns)}
    label_w, row, pad = 150, 20, 6
    span = width - label_w - 10
    body = []
    for k, (name, cells) in enumerate(rows.items()):
        y, x = pad + k * row, float(label_w)
        total = sum(cells.values()) or 1
        body.append(label(label_w - 6, y + 13, str(name), label_w - 10))
        for col in columns:
            w = span * cells.get(col, 0) / total
            if w > 0:
                body.append(f'<rect class="bar" x="{_r(x)}" y="{_r(y + 3)}" width="{_r(w)}" height="{row - 6}" '
                            f'fill="{colors[col]}"><title>{escape(f"{name} / {col}: {cells.get(col, 0)}")}</title></rect>')
                x += w
    legend_y = pad + row * len(rows) + 14
    x = float(label_w)
    for col in columns:
        body.append(f'<rect x="{_r(x)}" y="{_r(legend_y - 9)}" width="10" height="10" fill="{colors[col]}"/>')
        body.append(label(x + 14, legend_y, col, 17 * CHAR_PX, "start"))
        x += 22 + 7 * min(len(col), 18)
    return _svg(width, legend_y + 8, body, "stacked", title)


def rates(items: Sequence[tuple[str, float, int]], title: str, width: int = 440) -> str:
    """Horizontal bars on a fixed 0-100% scale (accuracy per slice), '67% of 3' at the end of each bar."""
    label_w, row, pad, right = 150, 20, 6, 80
    span = width - label_w - right
    body = [(f'<line x1="{label_w + span}" y1="{pad}" x2="{label_w + span}" y2="{pad + row * len(items)}" '
             f'stroke="#ccc" stroke-dasharray="3,3"/>')]
    for k, (name, rate, n) in enumerate(items):
        y = pad + k * row
        w = span * max(0.0, min(1.0, rate))
        body.append(label(label_w - 6, y + 13, str(name), label_w - 10))
        body.append(f'<rect class="bar" x="{label_w}" y="{_r(y + 3)}" width="{_r(max(w, 1.0))}" height="{row - 6}" '
                    f'fill="{PALETTE[2]}"><title>{escape(f"{name}: {100 * rate:.1f}% of {n}")}</title></rect>')
        body.append(_text(label_w + span + 5, y + 13, f"{100 * rate:.0f}% of {fmt.number(n)}", fill="#555"))
    return _svg(width, pad * 2 + row * len(items), body, "rates", title)


def lines(series: Sequence[tuple[str, Sequence[Sequence[float]]]], title: str, width: int = 440,
          height: int = 200, log_y: bool = False) -> str:
    """Curves over a shared x axis (steps); a legend when there is more than one."""
    left, right, top, bottom = 52, 12, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    points = [(x, y) for _, pts in series for x, y in pts if not log_y or y > 0]
    if not points:
        return _svg(width, 30, [_text(8, 18, "no data")], "lines", title)
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    f = math.log10 if log_y else (lambda v: v)
    y0, y1 = min(f(p[1]) for p in points), max(f(p[1]) for p in points)
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    if x1 == x0:
        x1 = x0 + 1
    body = _y_axis(left, top, plot_w, plot_h, y0, y1, log=log_y)
    for tick in _nice_ticks(x0, x1, max(2, int(plot_w // 80))):
        x = left + plot_w * (tick - x0) / (x1 - x0)
        body.append(_text(x, top + plot_h + 14, fmt.number(tick), "middle"))
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>')
    for k, (name, pts) in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        coords = [f"{_r(left + plot_w * (x - x0) / (x1 - x0))},{_r(top + plot_h * (1 - (f(y) - y0) / (y1 - y0)))}"
                  for x, y in pts if not log_y or y > 0]
        if len(coords) == 1:
            cx, cy = coords[0].split(",")
            body.append(f'<circle class="point" cx="{cx}" cy="{cy}" r="3" fill="{color}"/>')
        else:
            body.append(f'<polyline class="line" fill="none" stroke="{color}" stroke-width="1.8" points="{" ".join(coords)}"/>')
        if len(series) > 1:
            body.append(f'<rect x="{left + 8 + 110 * k}" y="{top + 2}" width="10" height="3" fill="{color}"/>')
            body.append(label(left + 22 + 110 * k, top + 8, name, 90, "start"))
    return _svg(width, height, body, "lines", title)


def _y_axis(left: float, top: float, plot_w: float, plot_h: float, lo: float, hi: float,
            integer_ticks: bool = False, log: bool = False) -> list[str]:
    out = []
    for tick in _nice_ticks(lo, hi, 4):
        if integer_ticks and tick != int(tick):
            continue
        y = top + plot_h * (1 - (tick - lo) / ((hi - lo) or 1))
        out.append(f'<line x1="{left}" y1="{_r(y)}" x2="{_r(left + plot_w)}" y2="{_r(y)}" stroke="#e5e5e5"/>')
        out.append(_text(left - 4, y + 4, fmt.number(10 ** tick if log else tick), "end", fill="#666"))
    return out


def _nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Round tick values (1, 2, 5 x 10^k steps) inside [lo, hi]."""
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, k = [], 0
    while first + k * step <= hi + 1e-9 * step:
        ticks.append(round(first + k * step, 12))
        k += 1
    return ticks


def _axis_label(x: float, y: float, text: str, width: float) -> str:
    """A centred axis label, pushed inside the chart where centring would cut it at either edge."""
    half = len(text) * CHAR_PX / 2
    if x + half > width - 2:
        return _text(width - 2, y, text, "end")
    if x - half < 2:
        return _text(2, y, text, "start")
    return _text(x, y, text, "middle")


def _label_slots(n: int, wanted: int) -> list[int]:
    if n <= wanted:
        return list(range(n))
    return sorted({round(i * (n - 1) / (wanted - 1)) for i in range(wanted)})


def _status_color(name: str, index: int) -> str:
    known = {"passed": "#54a24b", "failed": "#e45756", "not_run": "#bab0ac", "loss=1": "#54a24b",
             "loss=0": "#e45756", "unlabelled": "#bab0ac", "true": "#54a24b", "false": "#e45756"}
    return known.get(name, PALETTE[index % len(PALETTE)])
