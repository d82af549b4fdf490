"""Tests from generators and Hypothesis, expected outputs from the reference, and mutation adequacy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synth.pipelines.code.adequacy import assess
from synth.pipelines.code.build import build_problem
from synth.pipelines.code.mutation import MutationConfig, mutants
from synth.pipelines.code.problems import parse_seed
from synth.pipelines.code.signature import draw_inputs
from synth.pipelines.code.testgen import TestConfig, build_tests

from synth.records import Reject
from synth.sandbox import Sandbox

CLAMP = {
    "id": "clamp", "prompt": "Clamp x into [lo, hi] (lo <= hi).", "entry_point": "clamp",
    "reference_solution": ("def clamp(x: int, lo: int, hi: int) -> int:\n    if x < lo:\n        return lo\n"
                           "    if x > hi:\n        return hi\n    return x\n"),
    "validator": "def validate(x, lo, hi):\n    return lo <= hi\n",
}


def _box() -> Sandbox:
    return Sandbox(workers=2)


def test_hypothesis_inputs_are_typed_and_deterministic():
    src = "def f(xs: list[int], s: str, t: tuple[int, bool]) -> int:\n    return 0\n"
    a, b = draw_inputs(src, "f", 8, seed=3), draw_inputs(src, "f", 8, seed=3)
    assert a == b and len(a) == 8
    assert all(isinstance(x, list) and isinstance(s, str) and isinstance(t, list) for x, s, t in a)
    assert draw_inputs("def f(x):\n    return x\n", "f", 5, 0) == []  # untyped: no strategy


def test_tests_from_hypothesis_filtered_by_the_validator():
    box = _box()
    seed = parse_seed(CLAMP, "<test>", 1)
    tests = build_tests(box, seed, TestConfig(hypothesis=30))
    assert tests.reject is None and tests.sources["hypothesis"] >= 5
    for t in tests.tests:
        x, lo, hi = json.loads(t["input"])
        assert lo <= hi and json.loads(t["expected"]) == min(max(x, lo), hi)
    again = build_tests(box, seed, TestConfig(hypothesis=30))
    assert again.tests == tests.tests  # same seed, same tests


def test_nondeterministic_reference_is_rejected():
    row = {"id": "rnd", "prompt": "p", "entry_point": "f", "tests": [[1], [2], [3], [4], [5]],
           "reference_solution": "import random\ndef f(x):\n    return x + random.random()\n"}
    rec = build_problem(_box(), parse_seed(row, "<test>", 1))
    assert isinstance(rec, Reject) and rec.reason == "nondeterministic_reference"


def test_mutants_are_distinct_single_site_changes():
    muts = mutants(CLAMP["reference_solution"])
    texts = [m for m, _ in muts]
    assert len(texts) == len(set(texts)) >= 5
    assert any("x <= lo" in m for m in texts) and any("Lt->LtE" in d for _, d in muts)


def test_weak_tests_are_rejected_and_strong_ones_kept():
    box = _box()
    weak = parse_seed({**CLAMP, "id": "weak", "validator": None, "hypothesis": False,
                       "tests": [[5, 0, 10], [6, 0, 10], [7, 0, 10], [8, 0, 10], [9, 0, 10]]}, "<test>", 1)
    rec = build_problem(box, weak)
    assert isinstance(rec, Reject) and rec.reason == "weak_tests"
    strong = build_problem(box, parse_seed(CLAMP, "<test>", 1))
    assert isinstance(strong, dict) and strong["mutation_score"] >= 0.8
    assert strong["complexity"] is None  # no generator: nothing to scale


def test_probing_adds_the_test_that_catches_a_survivor():
    box = _box()
    row = {"id": "above", "prompt": "Count the elements of xs greater than t.", "entry_point": "count_above",
           "reference_solution": ("def count_above(xs: list[int], t: int) -> int:\n    c = 0\n    for x in xs:\n"
                                  "        if x > t:\n            c += 1\n    return c\n"),
           "hypothesis": False,  # the seed's tests never put an element equal to t: `>` vs `>=` goes unseen
           "tests": [[[1, 5, 9], 4], [[10], 3], [[], 0], [[2, 2], 7], [[8, 1], 0]],
           "generator": "def generate(n, rng):\n    return [[rng.randint(0, 5) for _ in range(n)], rng.randint(0, 5)]\n"}
    seed = parse_seed(row, "<test>", 1)
    tests = build_tests(box, seed, TestConfig(generated=0))
    assert len(tests.tests) == 5
    report = assess(box, seed, tests, TestConfig(generated=8))
    assert report.added_tests >= 1 and tests.sources["mutation_probe"] == report.added_tests
    assert any(json.loads(t["input"])[1] in json.loads(t["input"])[0] for t in tests.tests[5:])
    assert report.score == 1.0


TRAP = {
    "id": "trap", "prompt": "Water trapped between bars of the given non-negative heights.", "entry_point": "trap",
    "reference_solution": ("def trap(h: list[int]) -> int:\n    left, right, lmax, rmax, water = 0, len(h) - 1, 0, 0, 0\n"
                           "    while left < right:\n        if h[left] < h[right]:\n            lmax = max(lmax, h[left])\n"
                           "            water += lmax - h[left]\n            left += 1\n        else:\n"
                           "            rmax = max(rmax, h[right])\n            water += rmax - h[right]\n"
                           "            right -= 1\n    return water\n"),
    # Typed signature: Hypothesis draws negative heights too, which the validator must keep out
    "validator": "def validate(h):\n    return all(x >= 0 for x in h)\n",
    "generator": "def generate(n, rng):\n    return [[rng.randint(0, 6) for _ in range(n)]]\n",
}


@pytest.mark.slow  # builds a whole problem (~10 s)
def test_probe_and_generated_tests_respect_the_validator():
    """Issue 22: probes used to skip the validator, so a correct solution failed on negative heights."""
    rec = build_problem(_box(), parse_seed(TRAP, "<test>", 1))
    assert isinstance(rec, dict), rec
    heights = [json.loads(t["input"])[0] for t in rec["tests"]]
    assert heights and all(x >= 0 for h in heights for x in h)


def test_boundary_shift_return_and_argument_swap_operators():
    src = ("def f(xs, lo, hi):\n    cur = 0\n    for x in xs:\n        if cur < 0:\n            return lo\n"
           "        cur = max(cur - x, 1)\n    return hi\n")
    texts = dict(mutants(src, MutationConfig(max_mutants=1000)))
    assert any("cur < -1" in m for m in texts)  # 0 -> -1
    assert any("cur <= 0" in m for m in texts)  # < -> <=
    assert any("max(1, cur - x)" in m for m in texts)  # argument swap
    assert any("x - cur" in m for m in texts)  # operand swap
    assert any("return hi" in m.split("for x")[1].split("cur = ")[0] for m in texts)  # return values swapped
    assert any("2)" in m for m in texts) and any("max(cur - x, 0)" in m for m in texts)  # +1 and -1


@pytest.mark.slow  # builds a whole problem (~8 s)
def test_wrong_max_subarray_is_caught():
    """`cur < 0` -> `cur < -1` was never tried; the built tests must now fail that wrong solution."""
    from synth.pipelines.code.execute import run_tests

    seeds = Path(__file__).resolve().parents[2] / "examples" / "code_seeds.jsonl"
    row = json.loads(seeds.read_text().splitlines()[0])
    assert row["id"] == "max_subarray"
    box = _box()
    rec = build_problem(box, parse_seed(row, "<test>", 1))
    assert isinstance(rec, dict), rec
    wrong = row["reference_solution"].replace("cur < 0", "cur < -1")
    assert wrong != row["reference_solution"]
    outcome = run_tests(box, "function", wrong, "max_subarray", rec["tests"])
    assert outcome.passed < len(rec["tests"]), rec["mutation"]
