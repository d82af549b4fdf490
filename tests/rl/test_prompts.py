"""`synth train --mode grpo` end to end on the warm-started tiny policy (transformers rollout engine).

- a reward that favours one fixed answer ("paris", ~1/4 of the warm start's answers) makes the policy give
  it most of the time within 14 steps;
- a run resumed from a checkpoint continues exactly as the uninterrupted run;
- --keep-pass drops the prompts the current policy always / never solves, as rejects with reasons.
"""

from __future__ import annotations

import json

import pytest
from synth.trainers import run_train

from tests.rl.helpers import city_prompts, read_rollouts, write_jsonl

pytestmark = pytest.mark.slow

COMMON = {"mode": "grpo", "task": "prompts", "seq_len": 512, "max_new_tokens": 4, "group_size": 8,
          "prompts_per_step": 8, "precision": "fp32", "save_dtype": "fp32", "rollout_engine": "hf", "seed": 0}


def frequency(rollouts: list[dict], answer: str = "paris") -> float:
    return sum(r["completion"].strip() == answer for r in rollouts) / len(rollouts)


def test_reward_for_one_answer_raises_its_frequency(tmp_path, warm_model):
    out = tmp_path / "rl"
    manifest = run_train({**COMMON, "data": [str(city_prompts(tmp_path / "asks.jsonl"))], "out": str(out),
                          "model": str(warm_model), "reward": "tests.rl.rewards:favour_paris", "steps": 14,
                          "lr": 2e-3, "checkpoint_at_end": False})
    steps = read_rollouts(out)
    assert sorted(steps) == list(range(1, 15)) and all(len(v) == 64 for v in steps.values())
    before = frequency(steps[1] + steps[2])
    after = frequency(steps[13] + steps[14])
    # the warm start answers each of four cities about equally often; RL makes "paris" the answer
    assert before < 0.5 and after > 0.85 and after - before > 0.4, (before, after)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert len(log) == 14 and log[-1]["reward"] > log[0]["reward"]
    for key in ("reward", "reward_paris", "pass_rate", "completion_len", "truncated", "tokens_per_s", "rollout_s",
                "train_s", "sync_s", "grad_norm", "clip_frac", "loss"):
        assert key in log[0], key
    assert manifest["stats"]["steps"] == 14 and manifest["config"]["mode"] == "grpo"
    assert (out / "model.safetensors").is_file()


def test_resume_continues_exactly(tmp_path, warm_model):
    data = city_prompts(tmp_path / "asks.jsonl")
    run = {**COMMON, "data": [str(data)], "model": str(warm_model), "reward": "tests.rl.rewards:favour_paris",
           "lr": 2e-3, "min_lr_ratio": 1.0, "prompts_per_step": 4, "group_size": 4}
    run_train({**run, "out": str(tmp_path / "straight"), "steps": 4})
    run_train({**run, "out": str(tmp_path / "cut"), "steps": 2})             # "killed" after step 2's checkpoint
    resumed = run_train({**run, "out": str(tmp_path / "cut"), "steps": 4, "force": True})
    assert resumed["stats"]["resumed_from"] == 2
    straight, cut = read_rollouts(tmp_path / "straight"), read_rollouts(tmp_path / "cut")
    for step in (3, 4):
        assert [(r["completion"], r["reward"], r["advantage"]) for r in straight[step]] == \
               [(r["completion"], r["reward"], r["advantage"]) for r in cut[step]]
    logs = [[json.loads(x) for x in (tmp_path / d / "train_log.jsonl").read_text().splitlines()] for d in ("straight", "cut")]
    assert logs[0][-1]["loss"] == pytest.approx(logs[1][-1]["loss"], abs=1e-6)


def test_keep_pass_filters_with_the_current_policy(tmp_path, warm_model):
    records = [{"id": "always", "prompt": "name a city", "accept": "*"},
               {"id": "never", "prompt": "pick a city", "accept": ["atlantis"]},
               {"id": "sometimes", "prompt": "say a city", "accept": ["paris", "rome"]}]
    out = tmp_path / "rl"
    manifest = run_train({**COMMON, "data": [str(write_jsonl(tmp_path / "p.jsonl", records))], "out": str(out),
                          "model": str(warm_model), "reward": "tests.rl.rewards:accepts", "keep_pass": "1:7/8",
                          "prompts_per_step": 2, "group_size": 4, "steps": 2, "lr": 1e-3})
    rejects = {r["id"]: r["reason"] for r in map(json.loads, (out / "rejects" / "rejects.jsonl").read_text().splitlines())}
    assert rejects == {"always": "too_easy", "never": "too_hard"}
    assert {r["prompt_id"] for step in read_rollouts(out).values() for r in step} == {"sometimes"}
    assert manifest["counts"]["rejected_by_reason"] == {"too_easy": 1, "too_hard": 1}
    pool = json.loads((out / ".synth" / "rl_pool" / "step_00000000.json").read_text())
    assert pool["active"] == ["sometimes"] and pool["passes"]["always"] == 8 and pool["passes"]["never"] == 0
