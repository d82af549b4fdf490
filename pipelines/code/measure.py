"""Measure a function's growth in the sandbox and fit its complexity class."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from synth.pipelines.code.complexity import Fit, FitConfig, fit

from synth.sandbox import Limits, Sandbox


@dataclass(frozen=True)
class ProfileConfig:
    """How sizes are chosen and how long each is timed (all times are CPU seconds in the sandbox)."""

    min_n: int = 2  # first size (small: exponential algorithms must yield points before they explode)
    max_n: int = 1 << 15  # largest size: big enough for the leading term, small enough to stay in cache
    stop_s: float = 0.03  # stop growing once one call takes this long
    size_s: float = 0.012  # time spent repeating calls at one size (after min_repeats)
    budget_s: float = 0.8  # whole profile
    call_cpu_s: float = 1.0  # one call may not take longer (a timeout ends the profile, points kept)
    min_repeats: int = 3
    max_repeats: int = 40
    tiny_s: float = 0.0005  # calls faster than this are batched so the clock's cost does not dominate
    blowup: float = 12.0  # one doubling multiplying time by more than this -> arithmetic size steps
    seed: int = 0

    def to_job(self) -> dict:
        return asdict(self)


@dataclass
class Measurement:
    """Measured points, how the run ended, and the fitted class (None if it could not be fitted)."""

    points: list[dict] = field(default_factory=list)  # {n, seconds, repeats, mutates}
    status: str = "ok"
    error: str = ""
    fit: Fit | None = None

    @property
    def cls(self) -> str | None:
        return self.fit.cls if self.fit else None

    def to_json(self) -> dict:
        """The record's `complexity` block (without `declared`/`predicted`, which callers add)."""
        return {"class": self.cls, "fit": self.fit.to_json() if self.fit else None,
                "measurements": [{"n": p["n"], "seconds": float(f"{p['seconds']:.6g}"), "repeats": p["repeats"]}
                                 for p in self.points],
                "status": self.status}


def profile_limits(config: ProfileConfig, base: Limits) -> Limits:
    cpu = int(config.budget_s * 3 + config.call_cpu_s * 2 + 4)  # generation and imports on top of timing
    return base.with_(cpu_s=cpu, wall_s=cpu * 2 + 5.0, test_cpu_s=config.call_cpu_s)


def measure(box: Sandbox, source: str, entry_point: str, generator: str,
            config: ProfileConfig = ProfileConfig(), fit_config: FitConfig = FitConfig()) -> Measurement:
    """Time `entry_point` over growing inputs from `generator` and fit a class."""
    res = box.profile(source, entry_point, generator, config.to_job(), limits=profile_limits(config, box.limits))
    out = Measurement()
    for event in res.of("measure"):
        if event.get("status") == "ok":
            out.points.append({k: event[k] for k in ("n", "seconds", "repeats", "mutates")})
        else:
            # A call that timed out ends the schedule; the points before it are still good.
            out.status, out.error = event.get("status", "error"), str(event.get("error") or "")
    if res.status not in ("ok",) and not out.points:
        out.status, out.error = res.status, res.detail
    if out.points:
        out.fit = fit([p["n"] for p in out.points], [p["seconds"] for p in out.points], fit_config)
    return out
