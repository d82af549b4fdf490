"""Fit a complexity class to (size, seconds) measurements.

Model per class: t(n) = a + b·f(n) with a, b >= 0 (a absorbs call overhead), fitted by least squares on
*relative* residuals, because timing noise is roughly proportional to the time itself. The exponential
class fits its base too (naive Fibonacci grows like 1.6ⁿ, subset enumeration like 2ⁿ: both are
"exponential"). The chosen class is the simplest one whose error is within tolerance of the best fit:
a simpler class that explains the data nearly as well wins, so noise never promotes O(n) to O(n log n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CLASSES = ("O(1)", "O(log n)", "O(n)", "O(n log n)", "O(n^2)", "O(n^3)", "O(2^n)")
RANK = {name: i for i, name in enumerate(CLASSES)}
ALIASES = {"O(n²)": "O(n^2)", "O(n³)": "O(n^3)", "O(2ⁿ)": "O(2^n)", "O(nlogn)": "O(n log n)",
           "O(logn)": "O(log n)", "O(n*log n)": "O(n log n)", "O(n**2)": "O(n^2)", "O(n**3)": "O(n^3)"}
_BASES = np.linspace(1.15, 3.2, 42)  # candidate bases for the exponential class


def normalize_class(name: str) -> str:
    """Accept common spellings ('O(n²)', 'O(nlogn)') and return the canonical class name."""
    compact = name.strip()
    compact = ALIASES.get(compact, ALIASES.get(compact.replace(" ", ""), compact))
    if compact not in RANK:
        raise ValueError(f"unknown complexity class {name!r}; known: {', '.join(CLASSES)}")
    return compact


@dataclass(frozen=True)
class FitConfig:
    rel_tol: float = 0.35  # a simpler class wins if its error <= best error * (1 + rel_tol) ...
    abs_tol: float = 0.03  # ... or <= best error + abs_tol (relative-RMS units)
    min_points: int = 4  # fewer usable measurements -> no class
    min_growth: float = 1.3  # t(max n)/t(min n) below this -> O(1) without further fitting (warm-up makes 1.0 typical)


@dataclass(frozen=True)
class Fit:
    cls: str | None
    errors: dict[str, float]  # relative RMS error per class
    coefficients: dict[str, list[float]]  # [a, b] (and base for the exponential class)
    reason: str = ""
    bound: float = 0.0  # error threshold under which a class counts as explaining the data

    def explains(self, cls: str) -> bool:
        """True if `cls` fits these measurements within the tolerance used to choose the class."""
        if self.cls is None:
            return False
        cls = normalize_class(cls)
        return RANK[self.cls] <= RANK[cls] or self.errors.get(cls, float("inf")) <= self.bound

    def to_json(self) -> dict:
        return {"errors": {k: round(v, 5) for k, v in self.errors.items()},
                "coefficients": {k: [float(f"{x:.6g}") for x in v] for k, v in self.coefficients.items()},
                "bound": round(self.bound, 5), "reason": self.reason}


def _feature(cls: str, n: np.ndarray, base: float = 2.0) -> np.ndarray:
    if cls == "O(1)":
        return np.zeros_like(n)
    if cls == "O(log n)":
        return np.log2(n + 1.0)
    if cls == "O(n)":
        return n
    if cls == "O(n log n)":
        return n * np.log2(n + 1.0)
    if cls == "O(n^2)":
        return n**2
    if cls == "O(n^3)":
        return n**3
    return np.power(base, n - n.max())  # exponential, scaled so large n cannot overflow


def _nonneg_fit(f: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    """min sum(((a + b f - t)/t)^2) over a, b >= 0; returns (a, b, relative RMS error)."""
    w = 1.0 / t
    best = None
    candidates = []
    design = np.stack([w, f * w], axis=1)
    sol, *_ = np.linalg.lstsq(design, np.ones_like(t), rcond=None)
    candidates.append((float(sol[0]), float(sol[1])))
    fw = f * w
    denom = float(fw @ fw)
    candidates.append((0.0, float(fw.sum() / denom) if denom > 0 else 0.0))  # through the origin
    candidates.append((float(w.sum() / (w @ w)), 0.0))  # constant only
    for a, b in candidates:
        if a < 0 or b < 0:
            continue
        err = float(np.sqrt(np.mean(((a + b * f - t) / t) ** 2)))
        if best is None or err < best[2]:
            best = (a, b, err)
    return best


def fit(sizes: list[float], seconds: list[float], config: FitConfig = FitConfig()) -> Fit:
    """Choose a class for measurements taken at increasing sizes."""
    pts = sorted((float(n), float(t)) for n, t in zip(sizes, seconds) if t and t > 0 and n >= 0)
    if len(pts) < config.min_points:
        return Fit(None, {}, {}, f"only {len(pts)} usable measurements")
    n = np.array([p[0] for p in pts])
    t = np.array([p[1] for p in pts])
    errors, coefs = {}, {}
    for cls in CLASSES[:-1]:
        a, b, err = _nonneg_fit(_feature(cls, n), t)
        errors[cls], coefs[cls] = err, [a, b]
    exp = min((_nonneg_fit(_feature("O(2^n)", n, base), t) + (base,) for base in _BASES), key=lambda r: r[2])
    errors["O(2^n)"], coefs["O(2^n)"] = exp[2], [exp[0], exp[1], exp[3]]
    best = min(errors.values())
    bound = max(best * (1 + config.rel_tol), best + config.abs_tol)
    growth = t[-3:].min() / t[:3].min()
    if growth < config.min_growth:
        return Fit("O(1)", errors, coefs, f"time grew only {growth:.2f}x over the size range", bound)
    chosen = next(cls for cls in CLASSES if errors[cls] <= bound)
    return Fit(chosen, errors, coefs, f"best error {best:.4f}, tolerance {bound:.4f}", bound)


def time_reward(completion: Fit | None, reference_cls: str | None) -> float:
    """1 when the completion's measurements are explained by the reference's class (or a simpler one)
    within the fitter's tolerance, else 0. An unmeasured completion or reference earns nothing.

    Judging "explained by the bound" rather than comparing two noisy class labels keeps a correct O(n)
    completion from losing its reward because noise nudged its own label to O(n log n)."""
    if completion is None or completion.cls is None or reference_cls is None:
        return 0.0
    return 1.0 if completion.explains(reference_cls) else 0.0


def growth_exponent(sizes: list[float], seconds: list[float]) -> float:
    """Log-log slope between the first and last measurements (a quick, class-free summary)."""
    if len(sizes) < 2 or min(seconds) <= 0 or sizes[0] == sizes[-1]:
        return float("nan")
    return math.log(seconds[-1] / seconds[0]) / math.log(sizes[-1] / max(sizes[0], 1e-9))
