"""The solvability gate of `generate deepsearch --teacher none`: the honest solver of `generate trajectories`
answers every kept task from the question and tool results alone; `--no-honest-gate` turns it off."""

from __future__ import annotations

import json

import pytest
from synth.pipelines.deepsearch.gate import REASON, SOLVER
from synth.pipelines.trajectories.envtools import EnvTools
from synth.pipelines.trajectories.gold import GoldConfig, GoldPath

from synth.dataset import read_records
from tests.core.helpers import synth

ARGS = ("--num", "6", "--seed", "3", "--json")


def generate(corpus, out, *extra):
    res = synth("generate", "deepsearch", "--corpus", str(corpus), "--out", str(out), *ARGS, *extra)
    assert res.returncode == 0, res.stderr
    return list(read_records([out])), json.loads((out / "manifest.json").read_text())["stats"]


@pytest.mark.slow
def test_every_kept_task_is_solved_honestly_and_the_gate_can_be_turned_off(foldoc_corpus, tmp_path):
    tasks, stats = generate(foldoc_corpus, tmp_path / "gated")
    assert tasks, "the gate refused every candidate"
    gold = GoldPath(EnvTools(str(foldoc_corpus)), GoldConfig())
    for task in tasks:
        check = task["verification"]["honest_solver"]
        assert check["status"] == "passed" and check["solver"] == SOLVER and check["calls"] >= 1
        messages, notes = gold.build(task)   # what `generate trajectories --teacher none` will rebuild
        assert notes[-1]["kind"] == "answer" and task["answer"] in messages[-1]["content"]
    gate = stats["honest_gate"]
    assert gate["passed"] == len(tasks) and 0 < gate["pass_rate"] <= 1
    assert gate["not_honestly_solvable"] == stats["failed_candidates_by_reason"].get(REASON, 0) + \
        stats["rejects_by_reason"].get(REASON, 0)
    plain, plain_stats = generate(foldoc_corpus, tmp_path / "plain", "--no-honest-gate")
    assert plain and all("honest_solver" not in t["verification"] for t in plain)
    assert plain_stats["honest_gate"] is None
