"""Make a test set adequate, or say it cannot be: mutation score with probing of survivors.

1. Score the tests against mutants of the reference.
2. Survivors are probed with a larger, fresh sample of inputs (other seeds, more draws). A survivor that
   a probe input catches exposes a gap: that input joins the tests (with the reference's output) and the
   mutant counts as killed. A survivor nothing catches is *likely equivalent* (it behaves like the
   reference) and leaves the denominator, so equivalent mutants do not sink good test sets.
3. The final score is killed / (total - likely equivalent); below the threshold the problem is rejected
   as `weak_tests`. How good "likely equivalent" is depends on the probe sample, so it is reported.
"""

from __future__ import annotations

import json
from dataclasses import replace

from synth.pipelines.code.execute import judge, run_function_tests, run_stdio_tests
from synth.pipelines.code.mutation import MutationConfig, MutationReport, SandboxFailure, mutant_limits, score
from synth.pipelines.code.problems import Seed
from synth.pipelines.code.testgen import TestConfig, TestSet, candidate_inputs, validate_inputs

from synth.sandbox import OK, Sandbox

MIN_PROBES = 10  # with fewer fresh inputs, "nothing caught it" says too little to call a mutant equivalent


BOUNDARY = 2  # squashed integers land in [-2, 2]


def squash(value):
    """The same input with every integer folded into [-BOUNDARY, BOUNDARY]: random inputs over a wide
    range almost never make a running value hit exactly 0 or -1, which is where boundary mutants
    (`cur < 0` -> `cur < -1`) differ. The validator decides whether the squashed input is still legal."""
    if isinstance(value, bool) or not isinstance(value, (int, list)):
        return value
    if isinstance(value, int):
        return (value + BOUNDARY) % (2 * BOUNDARY + 1) - BOUNDARY
    return [squash(v) for v in value]


def _probe_tests(box: Sandbox, seed: Seed, cfg: TestConfig, known: set[str]) -> list[dict]:
    """Fresh inputs (not already tests) that pass the problem's validator, with the reference's outputs.
    Unvalidated probes would break the problem's own preconditions (negative heights for trapping water)
    and then kill mutants, or fail correct solutions, for inputs the problem never allows."""
    probe_cfg = replace(cfg, generated=cfg.generated * 3, hypothesis=cfg.hypothesis * 2, seed=cfg.seed + 7919)
    items, dropped = candidate_inputs(box, replace(seed, tests=[]), probe_cfg)
    if seed.validator and seed.style == "function":  # only where a validator can veto what squashing breaks
        items += [("boundary", squash(v)) for _, v in items]
    items = validate_inputs(box, seed, items, dropped)
    inputs = [v for _, v in items if (v if isinstance(v, str) else json.dumps(v)) not in known]
    if not inputs:
        return []
    if seed.style == "stdio":
        ref = run_stdio_tests(box, seed.reference_solution, inputs)
    else:
        ref = run_function_tests(box, [seed.reference_solution], seed.entry_point or "", inputs)[0]
    return [{"input": v if seed.style == "stdio" else json.dumps(v),
             "expected": out if seed.style == "stdio" else json.dumps(out)}
            for v, st, out in zip(inputs, ref.verdicts, ref.values) if st == OK]


def _first_catch(box: Sandbox, seed: Seed, survivors: list[tuple[str, str]], probes: list[dict],
                 max_cpu: float) -> list[int | None]:
    """Index of the first probe test each survivor fails, or None."""
    limits = mutant_limits(box, max_cpu, len(survivors))
    expected = [t["expected"] for t in probes]
    if seed.style == "stdio":
        outcomes = [run_stdio_tests(box, src, [t["input"] for t in probes], limits, expected) for src, _ in survivors]
    else:
        outcomes = run_function_tests(box, [src for src, _ in survivors], seed.entry_point or "",
                                      [json.loads(t["input"]) for t in probes], limits=limits)
    if any(o.status == "infra_error" for o in outcomes):
        raise SandboxFailure(outcomes[0].detail)
    out = []
    for outcome in outcomes:
        verdicts = judge(seed.style, outcome, expected).verdicts
        out.append(next((i for i, v in enumerate(verdicts) if v != OK), None))
    return out


def assess(box: Sandbox, seed: Seed, tests: TestSet, test_cfg: TestConfig = TestConfig(),
           mut_cfg: MutationConfig = MutationConfig()) -> MutationReport:
    """Score `tests` (adding probe tests that catch survivors, in place) and return the report."""
    report = score(box, seed.style, seed.reference_solution, seed.entry_point, tests.tests, tests.max_cpu, mut_cfg)
    if report.infra or not report.survivors:
        return report
    known = {t["input"] for t in tests.tests}
    probes = _probe_tests(box, seed, test_cfg, known)
    if len(probes) < MIN_PROBES:
        return report
    try:
        catches = _first_catch(box, seed, report.survivors, probes, tests.max_cpu)
    except SandboxFailure as exc:
        report.infra = str(exc)
        return report
    still = []
    for mutant, index in zip(report.survivors, catches):
        if index is None:
            report.equivalent.append(mutant[1])
            still.append(mutant)
            continue
        report.killed += 1
        if probes[index]["input"] not in known:
            tests.tests.append(probes[index])
            known.add(probes[index]["input"])
            report.added_tests += 1
            tests.sources["mutation_probe"] = tests.sources.get("mutation_probe", 0) + 1
    report.survivors = still
    return report
