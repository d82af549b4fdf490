"""Seed -> verified `code_problem` record (or a reject with a stable reason).

    tests (seed + generator + Hypothesis, expected outputs from two reference runs)
      -> adequacy (mutation score; survivors probed; weak sets rejected)
      -> complexity (reference timed over growing sizes; class fitted)
      -> record (validated against schemas/code_problem.schema.json)

Everything is deterministic for a given seed except the timing numbers in `complexity.measurements`
(they are measurements); the fitted class is what downstream code relies on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from synth.pipelines.code.adequacy import assess
from synth.pipelines.code.complexity import FitConfig
from synth.pipelines.code.measure import ProfileConfig, measure
from synth.pipelines.code.mutation import MutationConfig
from synth.pipelines.code.problems import Seed
from synth.pipelines.code.testgen import TestConfig, TestSet, build_tests

from synth import schemas
from synth.errors import UserError
from synth.records import Reject
from synth.sandbox import Sandbox, counter

COUNTERS = ("auto", "instructions", "time")


def reference_profile(counter_name: str = "auto") -> ProfileConfig:
    """`auto`: instruction counts where valgrind is installed (exact: no cache, load or clock effects; the
    fitter reads them with `fit_exact`), else the CPU-time profile below."""
    if counter_name not in COUNTERS:
        raise UserError(f"--complexity-counter {counter_name!r}: expected one of {', '.join(COUNTERS)}")
    if counter_name == "instructions" and not counter.available():
        raise UserError("--complexity-counter instructions needs valgrind on PATH (or use auto / time)")
    counted = counter_name == "instructions" or (counter_name == "auto" and counter.available())
    return counted_reference_profile() if counted else timed_reference_profile()


def timed_reference_profile() -> ProfileConfig:
    """The reference is measured once per problem and is trusted, so its profile may do what a
    completion's may not (issue 22): repeat calls on 3 reused inputs per size (generation no longer
    starves large sizes of repeats) and batch calls shorter than `tiny_s` on them; it also goes past
    `max_n` while an input costs under 2 ms (integer inputs: O(log n) shows over many more doublings)
    and gets a larger budget. Doubling sizes up to 2^15 beat x sqrt 2 steps up to 2^14 or 2^16 on the
    labelled set (docs/code.md): past ~2^15 list elements the working set leaves the caches and a
    dict-based O(n) reads as O(n log n)."""
    return ProfileConfig(growth=2.0, max_n=1 << 15, budget_s=1.5, cheap_s=0.002, reuse_inputs=3, tiny_s=0.0005,
                         min_repeats=6)


def counted_reference_profile() -> ProfileConfig:
    """The reference's profile when valgrind is installed: instruction counts (synth/sandbox/counter.py)
    instead of CPU time. Counts are exact per input, so three inputs per size suffice and no batching or
    size past 2^15 is needed; budgets are CPU seconds under valgrind (~50x a native run)."""
    return ProfileConfig(counter="instructions", growth=2.0, max_n=1 << 15, stop_s=0.02, size_s=0.0,
                         min_repeats=3, max_repeats=3, reuse_inputs=3, budget_s=30.0, call_cpu_s=20.0)


@dataclass(frozen=True)
class BuildConfig:
    tests: TestConfig = field(default_factory=TestConfig)
    mutation: MutationConfig = field(default_factory=MutationConfig)
    # the CPU-time profile unless asked (`generate code` asks for `reference_profile("auto")`): counting
    # costs ~50x the CPU, too much for callers that build problems for other purposes (tests, RL fixtures)
    profile: ProfileConfig = field(default_factory=timed_reference_profile)
    fit: FitConfig = field(default_factory=FitConfig)
    measure_complexity: bool = True

    def to_json(self) -> dict:
        return asdict(self)


def _complexity(box: Sandbox, seed: Seed, cfg: BuildConfig) -> dict | None:
    """The record's complexity block; None when the problem has no generator to scale inputs."""
    if not cfg.measure_complexity or not seed.generator:
        return None
    if seed.style == "stdio":
        source, entry = stdio_wrapper(seed.reference_solution), "__run_stdio__"
    else:
        source, entry = seed.reference_solution, seed.entry_point or ""
    result = measure(box, source, entry, seed.generator, cfg.profile, cfg.fit).to_json()
    result["declared"] = seed.declared_class
    result["predicted"] = None  # filled by a teacher (pipelines/code/teacher.py) when one is configured
    return result


def stdio_wrapper(program: str) -> str:
    """Turn a stdin/stdout program into a function of its input text returning its stdout text, so it can
    be profiled like any function and its outputs checked (stdin and stdout are swapped for in-memory
    streams during each call)."""
    return (
        "import io as __io, sys as __sys\n"
        f"__CODE = compile({program!r}, 'solution.py', 'exec')\n"
        "def __run_stdio__(text):\n"
        "    old = __sys.stdin, __sys.stdout\n"
        "    __sys.stdin, __sys.stdout = __io.StringIO(text), __io.StringIO()\n"
        "    try:\n"
        "        try:\n"
        "            exec(__CODE, {'__name__': '__main__'})\n"
        "        except SystemExit as __exit:\n"
        "            if __exit.code not in (None, 0):\n"
        "                raise\n"
        "        return __sys.stdout.getvalue()\n"
        "    finally:\n"
        "        __sys.stdin, __sys.stdout = old\n"
    )


def build_problem(box: Sandbox, seed: Seed, cfg: BuildConfig = BuildConfig(), provenance: dict | None = None,
                  check_tests: Callable[[TestSet], tuple[str, str] | None] | None = None) -> dict | Reject:
    """`check_tests` may filter the test set in place before adequacy is scored (output agreement across
    teacher solutions); it returns (reason, detail) to reject the problem."""
    tests = build_tests(box, seed, cfg.tests)
    if tests.reject:
        return Reject(*tests.reject)
    problem = check_tests(tests) if check_tests else None
    if problem:
        return Reject(*problem)
    report = assess(box, seed, tests, cfg.tests, cfg.mutation)
    if report.infra:
        return Reject("sandbox_infra_error", report.infra[:300])
    if report.score is not None and report.score < cfg.mutation.min_score:
        return Reject("weak_tests", f"mutation score {report.score:.2f} < {cfg.mutation.min_score}; "
                                    f"survivors: {', '.join(d for _, d in report.survivors[:5])}")
    complexity = _complexity(box, seed, cfg)
    record = {
        "id": seed.id, "style": seed.style, "prompt": seed.prompt, "entry_point": seed.entry_point,
        "reference_solution": seed.reference_solution, "tests": tests.tests, "generator": seed.generator,
        "validator": seed.validator, "test_sources": tests.sources,
        "mutation_score": round(report.score, 4) if report.score is not None else None,
        "mutation": report.to_json(), "complexity": complexity,
        "provenance": {"mode": "seed", "teacher": None, **(provenance or {})},
    }
    error = schemas.first_error(record, "code_problem")
    if error:
        return Reject("schema_violation", f"{error[0]}: {error[1]}")
    return record
