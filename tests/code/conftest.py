"""Shared by the reward tests: one sandbox and the built `equal_pairs` problem per module."""

from __future__ import annotations

import pytest
from synth.pipelines.code.build import build_problem
from synth.pipelines.code.problems import parse_seed

from synth.sandbox import Sandbox

from .test_reward import SEED


@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox(workers=2)


@pytest.fixture(scope="module")
def problem(box) -> dict:
    rec = build_problem(box, parse_seed(SEED, "<test>", 1))
    assert isinstance(rec, dict), rec
    # A dict-based O(n) can measure as O(n log n) on a loaded box (docs/code.md, fitter accuracy); the reward
    # is what these tests are about, so the bound is the declared class.
    assert rec["complexity"]["class"] in ("O(n)", "O(n log n)")
    rec["complexity"]["class"] = "O(n)"
    return rec
