"""Measure a function's growth in the sandbox and fit its complexity class.

`measure` times trusted code (a problem's reference, at build time). `measure_checked` times an untrusted
completion and only believes what it can check (issue 22):

* every input it was timed on is replayed through the reference in a separate sandbox run, and any
  mismatch, exception or timeout at any timed size is a correctness failure at scale (time reward 0);
* the times the completion's process reports are checked against the CPU time the kernel accounted for
  that whole run (out of the program's reach): a process that spent far more CPU than its calls
  reported, beyond the overhead the reference's run shows for the same inputs, patched its clock.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from synth.pipelines.code.compare import stdout_equal, values_equal
from synth.pipelines.code.complexity import ExactFitConfig, Fit, FitConfig, fit, fit_exact
from synth.pipelines.code.execute import SandboxFailure

from synth.sandbox import INFRA_ERROR, OK, VIOLATION, Limits, Sandbox


@dataclass(frozen=True)
class ProfileConfig:
    """How sizes are chosen and how long each is timed (all times are CPU seconds in the sandbox)."""

    min_n: int = 2  # first size (small: exponential algorithms must yield points before they explode)
    max_n: int = 1 << 15  # largest size: big enough for the leading term, small enough to stay in cache
    growth: float = 2.0  # size multiplier between measured sizes
    stop_s: float = 0.03  # stop growing once one call takes this long
    size_s: float = 0.012  # time spent at one size, generating inputs included (after min_repeats)
    budget_s: float = 0.8  # whole profile
    call_cpu_s: float = 1.0  # one call may not take longer (a timeout ends the profile)
    min_repeats: int = 3  # fresh inputs per size (each one timed once, its output checked)
    max_repeats: int = 48  # tiny calls get up to this many: their minimum is what beats the clock's noise
    blowup: float = 12.0  # one doubling multiplying time by more than this -> arithmetic size steps
    cheap_s: float = 0.0  # past max_n, go on growing while one input costs less than this (0: never)
    reuse_inputs: int = 0  # > 0 only for trusted code: cycle through this many inputs per size
    tiny_s: float = 0.0  # with reuse_inputs: calls faster than this are also timed in a batch
    counter: str = "time"  # "instructions": count each call's instructions under callgrind (trusted code only)
    seed: int = 0

    def to_job(self) -> dict:
        return asdict(self)


@dataclass
class Measurement:
    """Measured points, how the run ended, and the fitted class (None if it could not be fitted)."""

    points: list[dict] = field(default_factory=list)  # {n, seconds, repeats, spent}
    status: str = "ok"
    error: str = ""
    fit: Fit | None = None
    outputs: dict = field(default_factory=dict)  # (n, k) -> output event of every timed input
    cpu_s: float = 0.0  # CPU the kernel accounted for the whole profiling run
    violations: list[str] = field(default_factory=list)
    relative_growth: float | None = None  # log-log slope of t(completion)/t(reference) on the same inputs
    counter: str = "time"  # what `seconds` holds: CPU seconds, or instructions x 1e-9 (ProfileConfig.counter)

    @property
    def cls(self) -> str | None:
        return self.fit.cls if self.fit else None

    def to_json(self) -> dict:
        """The record's `complexity` block (without `declared`/`predicted`, which callers add)."""
        return {"class": self.cls, "fit": self.fit.to_json() if self.fit else None,
                "measurements": [{"n": p["n"], "seconds": float(f"{p['seconds']:.6g}"), "repeats": p["repeats"]}
                                 for p in self.points],
                "counter": self.counter, "status": self.status}


def profile_limits(config: ProfileConfig, base: Limits) -> Limits:
    # generation and imports on top of timing; tight, because a program that patches the in-process clock
    # runs until this kernel limit stops it
    cpu = int(config.budget_s * 3 + config.call_cpu_s + 2)
    return base.with_(cpu_s=cpu, wall_s=cpu * 2 + 5.0, test_cpu_s=config.call_cpu_s)


def _profile(box: Sandbox, source: str, entry_point: str, generator: str, config: dict, base: ProfileConfig):
    return box.profile(source, entry_point, generator, config, limits=profile_limits(base, box.limits))


def measure(box: Sandbox, source: str, entry_point: str, generator: str,
            config: ProfileConfig = ProfileConfig(), fit_config: FitConfig = FitConfig()) -> Measurement:
    """Time `entry_point` over growing inputs from `generator` and fit a class."""
    res = _profile(box, source, entry_point, generator, config.to_job(), config)
    out = Measurement(cpu_s=res.cpu_s, violations=[str(v.get("kind")) for v in res.violations])
    out.outputs = {(e["n"], e["k"]): e for e in res.of("output")}
    for event in res.of("measure"):
        if event.get("status") == "ok":
            out.points.append({k: event[k] for k in ("n", "seconds", "repeats", "spent")})
        else:
            out.status, out.error = event.get("status", "error"), str(event.get("error") or "")
    if res.status not in (OK, VIOLATION) and out.status == OK:  # violations are reported, not failures here
        out.status, out.error = res.status, res.detail
    if out.points:
        sizes, costs = [p["n"] for p in out.points], [p["seconds"] for p in out.points]
        out.fit = fit_exact(sizes, costs, ExactFitConfig()) if config.counter == "instructions" else \
            fit(sizes, costs, fit_config)
    out.counter = config.counter
    return out


@dataclass(frozen=True)
class TimingCheck:
    """How much unreported CPU a profiled run may show before its own timings are disbelieved."""

    overhead_factor: float = 2.0  # x the reference run's overhead (start-up, input generation)
    call_slack: float = 0.5  # + this fraction of the calls' reported CPU (copies, timer cost)
    abs_slack_s: float = 0.15  # + this much (interpreter start-up noise)


def _same(style: str, got, want) -> bool:
    if style == "stdio":
        return isinstance(got, str) and isinstance(want, str) and stdout_equal(got, want)
    return values_equal(got, want)


def _replay(box: Sandbox, reference: str, entry_point: str, generator: str, draws: list, config: ProfileConfig):
    job = dict(config.to_job(), replay=[list(d) for d in draws])
    res = _profile(box, reference, entry_point, generator, job, config)
    if res.status == INFRA_ERROR:
        raise SandboxFailure(f"sandbox failure while replaying the reference: {res.detail}")
    return res


def check_outputs(style: str, timed: Measurement, reference_outputs: dict) -> tuple[str | None, set[int]]:
    """(failure or None, sizes whose every input was verified against the reference)."""
    unverified = set()
    for key, mine in sorted(timed.outputs.items()):
        want = reference_outputs.get(key)
        if want is None or want.get("status") != OK:
            unverified.add(key[0])  # the reference could not answer this input: the size proves nothing
            continue
        if mine.get("status") != OK:
            return f"scale_{mine.get('status')}: n={key[0]}", set()
        if not _same(style, mine.get("value"), want.get("value")):
            return f"scale_wrong_answer: n={key[0]}", set()
    return None, {p["n"] for p in timed.points} - unverified


def timing_trusted(timed: Measurement, replay_cpu: float, replay_calls: float, check: TimingCheck) -> bool:
    """The completion's unreported CPU must look like the reference run's overhead for the same inputs."""
    reported = sum(p["spent"] for p in timed.points)
    overhead = max(0.0, replay_cpu - replay_calls)
    allowed = check.overhead_factor * overhead + check.call_slack * reported + check.abs_slack_s
    return timed.cpu_s - reported <= allowed


def _fastest(outputs: dict) -> dict[int, float]:
    """Per size, the fastest call over its inputs (noise only ever adds time)."""
    best: dict[int, float] = {}
    for (n, _), event in outputs.items():
        if event.get("status") == OK:
            best[n] = min(best.get(n, float("inf")), float(event["seconds"]))
    return best


def relative_growth(timed: Measurement, reference_outputs: dict, verified: set[int]) -> float | None:
    """How fast the completion's time grows *relative to the reference's on the same inputs*: the
    Theil-Sen slope of log(t_completion / t_reference) against log n, over the sizes where the
    reference's leading term shows (its time >= 5x its smallest; else the upper half of the sizes).
    Same class: about 0; one power of n worse: about 1. Pairing the two on identical inputs cancels
    most of what the machine adds (caches, load), which a class fitted to one curve cannot."""
    mine, ref = _fastest(timed.outputs), _fastest(reference_outputs)
    sizes = sorted(n for n in verified if n > 0 and mine.get(n, 0) > 0 and ref.get(n, 0) > 0)
    if len(sizes) < 3:
        return None
    floor = min(ref[n] for n in sizes)
    zone = [n for n in sizes if ref[n] >= 5 * floor]
    zone = zone if len(zone) >= 3 else sizes[len(sizes) // 2 - (1 if len(sizes) < 6 else 0):]
    x = [math.log(n) for n in zone]
    y = [math.log(mine[n] / ref[n]) for n in zone]
    slopes = sorted((y[j] - y[i]) / (x[j] - x[i]) for i in range(len(x)) for j in range(i + 1, len(x)))
    return slopes[len(slopes) // 2]


def measure_checked(box: Sandbox, source: str, reference: str, entry_point: str, generator: str, style: str,
                    config: ProfileConfig = ProfileConfig(), fit_config: FitConfig = FitConfig(),
                    check: TimingCheck = TimingCheck()) -> tuple[Measurement, str | None]:
    """Time an untrusted `source`; (measurement fitted on verified sizes only, failure or None)."""
    if config.counter != "time":  # a program can steer callgrind's count from inside (counter.py)
        raise ValueError("instruction counts are for trusted code only: profile completions with counter='time'")
    timed = measure(box, source, entry_point, generator, config, fit_config)
    if timed.status == INFRA_ERROR:
        raise SandboxFailure(f"sandbox failure while profiling: {timed.error}")
    replayed = _replay(box, reference, entry_point, generator, list(timed.outputs), config)
    ref_outputs = {(e["n"], e["k"]): e for e in replayed.of("output")}
    failure, verified = check_outputs(style, timed, ref_outputs)  # a wrong answer outranks how the run ended
    if failure or timed.status != OK:
        return timed, failure or f"scale_{timed.status}: {timed.error[:200]}"
    if not timing_trusted(timed, replayed.cpu_s, sum(e["seconds"] for e in ref_outputs.values()), check):
        return timed, "untrusted_timing: the run used more CPU than its calls reported"
    timed.relative_growth = relative_growth(timed, ref_outputs, verified)
    points = [p for p in timed.points if p["n"] in verified]
    timed.fit = fit([p["n"] for p in points], [p["seconds"] for p in points], fit_config) if points else None
    return timed, None
