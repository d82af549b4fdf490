"""Bounded, deterministic summaries of a stream: what `synth inspect` keeps instead of the records.

Every sketch uses memory that does not grow with the number of observations, and gives the same result
for the same input in the same order (the histogram even for any order):
- `Histogram`: bins of width w aligned at multiples of w; when the occupied span exceeds `max_bins`, the
  width doubles and neighbouring bins merge. floor(x/2w) == floor(floor(x/w)/2), so the final bins are
  exactly those of the smallest doubled width that fits the data's range.
- `Categorical`: exact counts for the first `cap` distinct values, the rest summed as "other".
- `Matrix`: a Categorical per row (e.g. verification check -> status counts).
- `Reservoir`: k uniformly drawn items (algorithm R) from a seeded RNG.
- `Decimator`: at most `capacity` points of a curve, evenly strided (the stride doubles when full).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable
from typing import Any


class Histogram:
    def __init__(self, width: float = 1.0, max_bins: int = 40, integer: bool = True, top: float | None = None):
        self.width, self.max_bins, self.integer, self.top = float(width), max_bins, integer, top
        self.bins: dict[int, list] = {}  # index -> [count, smallest value, largest value]
        self.n = 0
        self.total = 0.0
        self.lo = math.inf
        self.hi = -math.inf

    def add(self, x: float) -> None:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            return
        self.n += 1
        self.total += x
        self.lo = min(self.lo, x)
        self.hi = max(self.hi, x)
        index = self._index(x)
        cell = self.bins.get(index)
        if cell is not None:  # the common case: an existing bin, the span cannot have grown
            cell[0] += 1
            cell[1], cell[2] = min(cell[1], x), max(cell[2], x)
            return
        self.bins[index] = [1, x, x]
        while self._index(self.hi) - self._index(self.lo) + 1 > self.max_bins:
            self.width *= 2
            merged: dict[int, list] = {}
            for i, c in self.bins.items():
                _merge(merged, i // 2, c)
            self.bins = merged

    def _index(self, x: float) -> int:
        # A closed top (ratios: 1.0) belongs to the last bin instead of opening a bin of its own.
        if self.top is not None and x >= self.top:
            return math.ceil(self.top / self.width) - 1
        return math.floor(x / self.width)

    def quantile(self, q: float) -> float | None:
        """Interpolated between the smallest and largest value seen in the bin that holds the quantile:
        exact for discrete data (a bin of 0s and a bin of 1s), within one bin otherwise."""
        if not self.n:
            return None
        need, seen = q * self.n, 0
        for i in sorted(self.bins):
            count, lo, hi = self.bins[i]
            if seen + count >= need:
                return lo if count == 1 else lo + (hi - lo) * max(0.0, need - seen - 1) / (count - 1)
            seen += count
        return self.hi

    def to_dict(self) -> dict[str, Any]:
        if not self.n:
            return {"type": "numeric", "n": 0}
        rows = sorted(self.bins.items())
        return {
            "type": "numeric", "n": self.n, "mean": self.total / self.n, "min": self.lo, "max": self.hi,
            "p50": self.quantile(0.5), "p90": self.quantile(0.9), "integer": self.integer,
            "histogram": {"width": self.width, "bins": [[i * self.width, (i + 1) * self.width, c[0]] for i, c in rows]},
        }


class Categorical:
    def __init__(self, cap: int = 100, order: Iterable[str] = ()):
        self.cap, self.order = cap, tuple(order)
        self.counts: Counter = Counter()
        self.other = 0

    def add(self, value: Any, count: int = 1) -> None:
        key = _label(value)
        if key in self.counts or len(self.counts) < self.cap:
            self.counts[key] += count
        else:
            self.other += count

    @property
    def n(self) -> int:
        return sum(self.counts.values()) + self.other

    def ordered(self) -> list[tuple[str, int]]:
        """Known values in their natural order first (tiers, complexity classes), then by count."""
        known = [(k, self.counts[k]) for k in self.order if k in self.counts]
        rest = sorted(((k, c) for k, c in self.counts.items() if k not in self.order), key=lambda kc: (-kc[1], kc[0]))
        return known + rest

    def to_dict(self) -> dict[str, Any]:
        return {"type": "categorical", "n": self.n, "counts": dict(self.ordered()), "other": self.other}


class Matrix:
    def __init__(self, cap: int = 30, order: Iterable[str] = ()):
        self.cap, self.order = cap, tuple(order)
        self.rows: dict[str, Categorical] = {}
        self.other = 0

    def add(self, pair: tuple[Any, Any]) -> None:
        row, col = _label(pair[0]), pair[1]
        if row not in self.rows:
            if len(self.rows) >= self.cap:
                self.other += 1
                return
            self.rows[row] = Categorical(cap=self.cap, order=self.order)
        self.rows[row].add(col)

    @property
    def n(self) -> int:
        return sum(c.n for c in self.rows.values()) + self.other

    def to_dict(self) -> dict[str, Any]:
        columns = Categorical(order=self.order)
        for cat in self.rows.values():
            for key, count in cat.counts.items():
                columns.add(key, count)
        return {"type": "matrix", "n": self.n, "columns": [k for k, _ in columns.ordered()],
                "rows": {r: dict(self.rows[r].ordered()) for r in self._row_order()}, "other": self.other}

    def _row_order(self) -> list[str]:
        # Rows that are known values (complexity classes) in their natural order, the rest as they came.
        rank = {v: i for i, v in enumerate(self.order)}
        return sorted(self.rows, key=lambda r: rank.get(r, len(rank)))


class Reservoir:
    def __init__(self, k: int, seed: int = 0):
        self.k, self.seen = k, 0
        self.rng = random.Random(seed)
        self.items: list[tuple[int, Any]] = []

    def add(self, item: Any) -> None:
        self.seen += 1
        if len(self.items) < self.k:
            self.items.append((self.seen, item))
            return
        j = self.rng.randrange(self.seen)
        if j < self.k:
            self.items[j] = (self.seen, item)

    def sample(self) -> list[Any]:
        """The kept items in stream order (so a report lists them as the data does)."""
        return [item for _, item in sorted(self.items, key=lambda pi: pi[0])]


class Decimator:
    def __init__(self, capacity: int = 400):
        self.capacity, self.stride, self.seen = capacity, 1, 0
        self.points: list[Any] = []
        self.last: Any = None

    def add(self, point: Any) -> None:
        if self.seen % self.stride == 0:
            self.points.append(point)
            if len(self.points) >= self.capacity:
                self.points = self.points[::2]
                self.stride *= 2
        self.seen += 1
        self.last = point

    def values(self) -> list[Any]:
        """The kept points plus the final one (a curve must end where the run ended)."""
        if self.last is not None and (not self.points or self.points[-1] is not self.last):
            return [*self.points, self.last]
        return list(self.points)


def _merge(bins: dict[int, list], index: int, cell: list) -> None:
    have = bins.get(index)
    if have is None:
        bins[index] = list(cell)
    else:
        have[0] += cell[0]
        have[1], have[2] = min(have[1], cell[1]), max(have[2], cell[2])


def _label(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip().replace("\n", " ")
    return text[:80] if text else "(empty)"
