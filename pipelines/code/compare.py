"""Does an output match the expected one? (Decided in the parent: expected values never enter the sandbox.)"""

from __future__ import annotations

import json
import math
from typing import Any

REL_TOL = 1e-6
ABS_TOL = 1e-9


def values_equal(got: Any, want: Any) -> bool:
    """Structural equality of harness-encoded values; floats (and ints vs floats) within tolerance."""
    if isinstance(got, bool) or isinstance(want, bool):
        return got is want if isinstance(got, bool) and isinstance(want, bool) else False
    if isinstance(got, (int, float)) and isinstance(want, (int, float)):
        if isinstance(got, int) and isinstance(want, int):
            return got == want
        return math.isclose(got, want, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(values_equal(g, w) for g, w in zip(got, want))
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(values_equal(got[k], want[k]) for k in got)
    return got == want


def _number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def stdout_equal(got: str, want: str) -> bool:
    """Token-wise comparison: whitespace layout is free, numbers compare within tolerance."""
    a, b = got.split(), want.split()
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x == y:
            continue
        fx, fy = _number(x), _number(y)
        if fx is None or fy is None or not math.isclose(fx, fy, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return False
    return True


def expected_matches(style: str, got: Any, expected: str) -> bool:
    """`expected` as stored in a record's test: JSON text (function style) or stdout text (stdio)."""
    if style == "stdio":
        return stdout_equal(got if isinstance(got, str) else "", expected)
    return values_equal(got, json.loads(expected))
