"""Code RL: the code pipeline's gated reward flows into GRPO; --stage correctness | complexity.

The warm-started policy solves the `total` problem in about one sample in eight, so groups mix passing,
failing and unparseable completions: real format / correctness / time rewards from the sandbox.
"""

from __future__ import annotations

import json

import pytest
from synth.pipelines.code.reward import reward
from synth.trainers import run_train

from tests.rl.helpers import read_rollouts, write_jsonl

pytestmark = pytest.mark.slow


def run(tmp_path, warm_model, problem, stage: str, steps: int) -> tuple[dict, dict, list[dict]]:
    data = write_jsonl(tmp_path / "problems.jsonl", [{**problem, "id": f"total-{i}"} for i in range(2)])
    out = tmp_path / stage
    manifest = run_train({"data": [str(data)], "out": str(out), "mode": "grpo", "model": str(warm_model),
                          "stage": stage, "seq_len": 512, "max_new_tokens": 40, "group_size": 8,
                          "prompts_per_step": 2, "steps": steps, "lr": 1e-3, "temperature": 0.7,
                          "precision": "fp32", "save_dtype": "fp32", "rollout_engine": "hf", "seed": 1,
                          "checkpoint_at_end": False})
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    return manifest, read_rollouts(out), log


def test_correctness_stage_rewards_format_and_pass_rate_only(tmp_path, warm_model, code_problem, rl_sandbox):
    manifest, steps, log = run(tmp_path, warm_model, code_problem, "correctness", 2)
    assert manifest["inputs"][0]["kind"] == "code_problem"  # --task auto read the dataset kind
    rollouts = [r for step in steps.values() for r in step]
    assert len(rollouts) == 32
    assert {r["reward"]["format"] for r in rollouts} == {0.0, 1.0}  # parseable and unparseable completions
    assert any(r["reward"]["all_pass"] == 1.0 for r in rollouts) and any(r["reward"]["correctness"] < 1 for r in rollouts)
    assert all(r["reward"]["time"] == 0.0 for r in rollouts)  # stage 1 never computes the time reward
    for r in rollouts[:6]:  # the logged reward is the code pipeline's reward of the logged completion
        again = reward({k: v for k, v in code_problem.items() if k != "complexity"}, r["completion"], sandbox=rl_sandbox)
        assert (again["format"], again["correctness"], again["total"]) == \
               (r["reward"]["format"], r["reward"]["correctness"], r["reward"]["total"])
        assert r["passed"] == (r["reward"]["all_pass"] == 1.0)
    for key in ("reward_format", "reward_correctness", "reward_time", "pass_rate"):
        assert key in log[0]
    assert log[0]["pass_rate"] == pytest.approx(sum(r["passed"] for r in steps[1]) / 16)


def test_complexity_stage_gates_the_time_reward_on_all_tests_passing(tmp_path, warm_model, code_problem):
    _, steps, log = run(tmp_path, warm_model, code_problem, "complexity", 1)
    rollouts = steps[1]
    passing = [r for r in rollouts if r["reward"]["all_pass"] == 1.0]
    assert passing, "the warm start solves the problem in some samples"
    # a correct O(n) sum against the O(n) reference earns the time reward; nothing else ever does
    assert all(r["reward"]["time"] == 1.0 for r in passing)
    assert all(r["reward"]["time"] == 0.0 for r in rollouts if r["reward"]["all_pass"] < 1.0)
    assert all(r["reward"]["total"] == pytest.approx(r["reward"]["format"] + r["reward"]["correctness"] + r["reward"]["time"])
               for r in rollouts)
    assert log[0]["reward_time"] == pytest.approx(len(passing) / len(rollouts))
