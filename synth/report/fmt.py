"""Number and text formatting shared by the terminal and HTML views (so both show the same figures)."""

from __future__ import annotations

import math
from typing import Any

BLOCKS = "▁▂▃▄▅▆▇█"


def number(x: Any) -> str:
    """Short, readable numbers: 12, 3.4, 0.0123, 1.2e-05, 12.3k, 4.5M."""
    if x is None:
        return "-"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int) or (math.isfinite(x) and x == int(x) and abs(x) < 1e15):
        x = int(x)
        return f"{x / 1e6:.1f}M" if abs(x) >= 10_000_000 else (f"{x / 1e3:.1f}k" if abs(x) >= 100_000 else str(x))
    if not math.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax >= 1e6:
        return f"{x / 1e6:.1f}M"
    if ax >= 1e4:
        return f"{x / 1e3:.1f}k"
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 1:
        return f"{x:.2f}".rstrip("0").rstrip(".")
    if ax >= 1e-3 or ax == 0:
        return f"{x:.3g}"
    return f"{x:.2e}"


def share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"


def bin_label(lo: float, hi: float, integer: bool) -> str:
    """[lo, hi) as a readable range; an integer bin of width 1 is just its value."""
    if integer:
        lo_i, hi_i = math.ceil(lo), math.ceil(hi) - 1
        return str(lo_i) if hi_i <= lo_i else f"{number(lo_i)}–{number(hi_i)}"
    return f"{number(lo)}–{number(hi)}"


def dense_bins(histogram: dict) -> list[tuple[float, float, int]]:
    """Histogram bins with the empty ones between them filled in (a gap is information)."""
    bins = histogram.get("bins") or []
    if not bins:
        return []
    width = histogram["width"]
    have = {round(lo / width): c for lo, _, c in bins}
    first, last = min(have), max(have)
    return [(i * width, (i + 1) * width, have.get(i, 0)) for i in range(first, last + 1)]


def sparkline(values: list[float], width: int = 40) -> str:
    """Values as one line of block characters, averaged into at most `width` buckets."""
    if not values:
        return ""
    values = buckets(values, width)
    lo, hi = min(values), max(values)
    span = hi - lo
    if span <= 0:
        return BLOCKS[len(BLOCKS) // 2] * len(values)
    return "".join(BLOCKS[min(len(BLOCKS) - 1, int((v - lo) / span * len(BLOCKS)))] for v in values)


def buckets(values: list[float], width: int) -> list[float]:
    """At most `width` means of consecutive runs of values."""
    n = len(values)
    if n <= width:
        return list(values)
    out = []
    for i in range(width):
        chunk = values[i * n // width:max((i + 1) * n // width, i * n // width + 1)]
        out.append(sum(chunk) / len(chunk))
    return out


def bar(count: int, top: int, width: int = 24) -> str:
    if top <= 0:
        return ""
    full = count / top * width
    return "█" * int(full) + ("▌" if full - int(full) >= 0.5 else "")


def clip(text: Any, limit: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit] + f"… [+{len(text) - limit} chars]"


def flatten(obj: Any, prefix: str = "", depth: int = 3) -> list[tuple[str, Any]]:
    """Nested manifest stats as (dotted key, scalar) rows; long lists are summarised by length."""
    rows: list[tuple[str, Any]] = []
    if isinstance(obj, dict) and depth > 0:
        for key, value in obj.items():
            rows += flatten(value, f"{prefix}.{key}" if prefix else str(key), depth - 1)
    elif isinstance(obj, list):
        short = all(not isinstance(v, (dict, list)) for v in obj) and len(obj) <= 8
        rows.append((prefix, ", ".join(number(v) for v in obj) if short else f"[{len(obj)} items]"))
    elif isinstance(obj, dict):
        rows.append((prefix, f"{{{len(obj)} keys}}"))
    else:
        rows.append((prefix, obj))
    return rows
