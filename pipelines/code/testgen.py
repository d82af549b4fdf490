"""Test inputs (seed-given, generator programs, Hypothesis) and expected outputs from the reference.

Every program involved (generator, validator, reference) runs in the sandbox. The reference runs twice
in separate processes: a problem whose outputs differ between runs has no well-defined expected output
and is rejected (`nondeterministic_reference`).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from synth.pipelines.code.execute import run_function_tests, run_stdio_tests
from synth.pipelines.code.problems import Seed
from synth.pipelines.code.signature import draw_inputs

from synth.sandbox import OK, Limits, Sandbox

# Small sizes first: tests must be quick to run thousands of times during RL.
TEST_SIZES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 24, 32, 48, 64, 100)


@dataclass(frozen=True)
class TestConfig:
    __test__ = False  # not a pytest test class
    generated: int = 24  # inputs drawn from the generator program
    hypothesis: int = 16  # inputs drawn from Hypothesis strategies (typed signatures)
    min_tests: int = 5  # fewer surviving tests -> reject `too_few_tests`
    max_tests: int = 40
    seed: int = 0


@dataclass
class TestSet:
    __test__ = False
    tests: list[dict] = field(default_factory=list)  # {"input", "expected"} as stored in records
    sources: dict[str, int] = field(default_factory=dict)  # how many tests came from where
    dropped: dict[str, int] = field(default_factory=dict)  # inputs dropped, by reason
    max_cpu: float = 0.0  # slowest reference call on a test (sets the mutants' per-test limit)
    reject: tuple[str, str] | None = None  # (reason, detail) when the problem cannot be used


def _key(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _dedupe(items: list[tuple[str, object]]) -> list[tuple[str, object]]:
    seen, out = set(), []
    for origin, value in items:
        if _key(value) not in seen:
            seen.add(_key(value))
            out.append((origin, value))
    return out


def candidate_inputs(box: Sandbox, seed: Seed, cfg: TestConfig) -> tuple[list[tuple[str, object]], dict]:
    """(origin, input) pairs from the seed, its generator and Hypothesis, deduplicated."""
    rng = random.Random(f"{cfg.seed}:{seed.id}")
    items: list[tuple[str, object]] = [("seed", t) for t in seed.tests]
    dropped: dict[str, int] = {}
    if seed.generator and cfg.generated:
        cap = seed.test_max_n if seed.test_max_n is not None else TEST_SIZES[-1]
        draws = [(min(cap, TEST_SIZES[i % len(TEST_SIZES)]), rng.randrange(1 << 30)) for i in range(cfg.generated)]
        res = box.generate(seed.generator, draws, seed.style)
        for event in res.of("draw"):
            if event["status"] == OK:
                items.append(("generator", event["value"]))
            else:
                dropped["generator_failed"] = dropped.get("generator_failed", 0) + 1
    use_hyp = seed.hypothesis if seed.hypothesis is not None else (not seed.generator or bool(seed.validator))
    if seed.style == "function" and use_hyp and cfg.hypothesis:
        hyp = draw_inputs(seed.reference_solution, seed.entry_point or "", cfg.hypothesis, rng.randrange(1 << 30))
        items += [("hypothesis", args) for args in hyp]
    return _dedupe(items), dropped


def validate_inputs(box: Sandbox, seed: Seed, items: list[tuple[str, object]], dropped: dict) -> list:
    """The items whose input the seed's validator accepts (all of them without a validator)."""
    if not seed.validator or not items:
        return items
    verdict = run_function_tests(box, [seed.validator], "validate", [v for _, v in items])[0]
    kept = [item for item, ok, value in zip(items, verdict.verdicts, verdict.values) if ok == OK and value is True]
    if len(kept) < len(items):
        dropped["invalid_input"] = dropped.get("invalid_input", 0) + len(items) - len(kept)
    return kept


def _reference_runs(box: Sandbox, seed: Seed, inputs: list, limits: Limits | None):
    """Two independent runs of the reference (separate processes, in parallel)."""
    if seed.style == "stdio":
        return box.map(lambda _: run_stdio_tests(box, seed.reference_solution, inputs, limits), [0, 1])
    return box.map(lambda _: run_function_tests(box, [seed.reference_solution], seed.entry_point or "",
                                                inputs, limits)[0], [0, 1])


def build_tests(box: Sandbox, seed: Seed, cfg: TestConfig = TestConfig(), limits: Limits | None = None) -> TestSet:
    items, dropped = candidate_inputs(box, seed, cfg)
    items = validate_inputs(box, seed, items, dropped)
    out = TestSet(dropped=dropped)
    first, second = _reference_runs(box, seed, [v for _, v in items], limits)
    if "infra_error" in (first.status, second.status):
        out.reject = ("sandbox_infra_error", first.detail or second.detail)
        return out
    for (origin, value), a, b, va, vb, cpu in zip(items, first.verdicts, second.verdicts, first.values,
                                                  second.values, first.cpu):
        if a != OK or b != OK:
            dropped[f"reference_{a if a != OK else b}"] = dropped.get(f"reference_{a if a != OK else b}", 0) + 1
            continue
        if _key(va) != _key(vb):
            out.reject = ("nondeterministic_reference", f"two runs disagree on input {_key(value)[:200]}")
            return out
        if len(out.tests) < cfg.max_tests:
            out.tests.append({"input": value if seed.style == "stdio" else json.dumps(value),
                              "expected": va if seed.style == "stdio" else json.dumps(va)})
            out.sources[origin] = out.sources.get(origin, 0) + 1
            out.max_cpu = max(out.max_cpu, cpu)
    if len(out.tests) < cfg.min_tests:
        out.reject = ("too_few_tests", f"{len(out.tests)} tests survived (need {cfg.min_tests}); dropped {dropped}")
    return out
