"""Fit a complexity class to (size, seconds) measurements.

Model per class: t(n) = a + b·f(n) with a, b >= 0 (a absorbs call overhead), fitted by least squares on
*relative* residuals, because timing noise is roughly proportional to the time itself. The exponential
class fits its base too (naive Fibonacci grows like 1.6ⁿ, subset enumeration like 2ⁿ: both are
"exponential"). The chosen class is the simplest one whose error is within tolerance of the best fit:
a simpler class that explains the data nearly as well wins, so noise never promotes O(n) to O(n log n).
"""

from __future__ import annotations

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


# ---------------------------------------------------------------------------------------------- exact counts
# Instruction counts (synth/sandbox/counter.py) carry no timing noise, only what differs between inputs
# and sizes: the per-element cost steps up once loop indices pass the small-int cache (256), list and
# hash-table growth adds a +-2-7 % jitter from one size to the next, and a sort's n log n term can be a
# few percent of a Python scan's linear one. So slopes pick the degree (they are far apart), and n is
# told from n log n by a fit with lower-order terms at the large sizes, where the step has faded.

@dataclass(frozen=True)
class ExactFitConfig:
    constant_slope: float = 0.075  # log-log slope over all sizes below this: O(1) (log n: >= 0.1 measured)
    linear_slope: float = 0.5  # zone slope below this: O(log n); above: n or n log n ...
    square_slope: float = 1.6  # ... last doubling's slope above this: O(n^2) ...
    cube_slope: float = 2.5  # ... and above this O(n^3)
    exp_slope: float = 4.0  # arithmetic size steps and a last slope above this: O(2^n) (fib at n=20: ~10)
    log_share: float = 0.009  # n log n needs one doubling to add >= 0.9 % to the per-element cost at max n ...
    log_gain: float = 3.0  # ... and the log term to cut the linear model's error by this factor,
    strong_share: float = 0.03  # ... or, where a doubling adds >= 3 % (no O(n) code showed > 1.4 %),
    strong_gain: float = 1.5  # ... by this factor
    zone_factor: float = 8.0  # fit where counts reach this multiple of the smallest (call overhead faded)
    large_n: int = 1024  # ... and at n >= this when 4 such sizes exist (past the small-int cache, n <= 256)
    min_points: int = 4


def _nnls_relative(columns: list[np.ndarray], t: np.ndarray) -> tuple[list[float], float]:
    """Least squares on relative residuals with every coefficient but the constant's non-negative: the
    best such solution over every subset of the (at most 4) features; (coefficients, relative RMS error).
    The constant is free because a per-element cost that steps up early (indices past the small-int
    cache at 256 are allocated) extrapolates to a negative intercept at the large sizes fitted."""
    best = ([0.0] * len(columns), float("inf"))
    design = np.stack(columns, axis=1) / t[:, None]
    target = np.ones_like(t)
    for mask in range(1, 1 << len(columns)):
        keep = [i for i in range(len(columns)) if mask >> i & 1]
        sol, *_ = np.linalg.lstsq(design[:, keep], target, rcond=None)
        if any(v < 0 for i, v in zip(keep, sol) if i > 0):
            continue
        err = float(np.sqrt(np.mean((design[:, keep] @ sol - target) ** 2)))
        if err < best[1]:
            coef = [0.0] * len(columns)
            for i, v in zip(keep, sol):
                coef[i] = float(v)
            best = (coef, err)
    return best


def _zone(n: np.ndarray, t: np.ndarray, config: ExactFitConfig) -> np.ndarray:
    """Indices of the sizes to fit on: large n where there are enough of them, else where the counts have
    grown past the call's fixed overhead, else the upper half."""
    for keep in (n >= config.large_n, t >= config.zone_factor * t.min()):
        if keep.sum() >= config.min_points:
            return np.flatnonzero(keep)
    return np.arange(len(n))[len(n) // 2 - 1 if len(n) > 3 else 0:]


def _slope(n: np.ndarray, t: np.ndarray) -> float:
    return float(np.log(t[-1] / t[0]) / np.log(n[-1] / n[0]))


def _log_factor(n: np.ndarray, t: np.ndarray, config: ExactFitConfig) -> tuple[bool, dict]:
    """Is there an n log n term? Its share of the per-element cost added per doubling must be real
    (>= log_share: sort-then-scan shows 1.2-2.7 %, pure n log n 7-10 %) and it must explain what the
    linear model leaves (error down by log_gain, or strong_gain for a large share): the +-2-7 %
    size-to-size jitter of list and hash-table growth in O(n) code is not explained by a log term."""
    linear_err = _nnls_relative([np.ones_like(n), n], t)[1]
    (_, b, e), log_err = _nnls_relative([np.ones_like(n), n, n * np.log2(n)], t)
    share = e / (b + e * np.log2(n[-1])) if b + e > 0 else 0.0
    gain = config.strong_gain if share >= config.strong_share else config.log_gain
    found = share >= config.log_share and linear_err >= gain * log_err
    return found, {"O(n)": linear_err, "O(n log n)": log_err, "log_share": float(share)}


def _exponential(n: np.ndarray, last_slope: float, config: ExactFitConfig) -> bool:
    """The profile switched to arithmetic size steps (one doubling multiplied the cost past `blowup`) and
    the cost still grows faster than any polynomial there. A jump alone is not enough: glibc's memmove
    switches to `rep movsb` past a few KiB, which callgrind counts per byte, so `list.pop(0)` jumps x13
    at one doubling and is still n^2 on either side."""
    stepped = len(n) >= 3 and bool((n[1:] / n[:-1] < 1.9).any())
    return stepped and last_slope >= config.exp_slope


def fit_exact(sizes: list[float], counts: list[float], config: ExactFitConfig = ExactFitConfig()) -> Fit:
    """Choose a class for exact operation counts (instructions per call) at increasing sizes: slopes
    pick the polynomial degree, a fit with lower-order terms decides n against n log n."""
    pts = sorted((float(n), float(c)) for n, c in zip(sizes, counts) if c and c > 0 and n >= 1)
    if len(pts) < config.min_points:
        return Fit(None, {}, {}, f"only {len(pts)} usable measurements")
    n_all, t_all = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    idx = _zone(n_all, t_all, config)
    n, t = n_all[idx], t_all[idx]
    overall, zone, last = _slope(n_all, t_all), _slope(n, t), _slope(n[-2:], t[-2:])
    slopes = {"overall": overall, "zone": zone, "last": last}
    reason = f"exact counts at n={int(n[0])}..{int(n[-1])}; slopes " + \
        ", ".join(f"{k} {v:.3f}" for k, v in slopes.items())
    errors: dict[str, float] = {}
    if _exponential(n_all, last, config):
        cls = "O(2^n)"
    elif overall < config.constant_slope:
        cls = "O(1)"
    elif zone < config.linear_slope:
        cls = "O(log n)"
    elif last >= config.cube_slope:
        cls = "O(n^3)"
    elif last >= config.square_slope:
        cls = "O(n^2)"
    else:
        found, errors = _log_factor(n, t, config)
        cls = "O(n log n)" if found else "O(n)"
        reason += f"; log share {errors['log_share']:.4f}"
    return Fit(cls, {k: float(v) for k, v in errors.items()}, {"slopes": [overall, zone, last]}, reason, 0.0)
