"""Faults at the teacher: retried with backoff or rejected with a stable reason; the run never stops for one
record; a dead teacher stops it with one line and a re-run resumes. A real HTTP server on loopback
(tests/teachers/fake_openai.py) plays each fault; the client, retries and timeouts under test are real."""

from __future__ import annotations

import json

import polars as pl
import pytest

from synth.errors import UserError
from tests.core.helpers import synth, write_jsonl
from tests.teachers.fake_openai import Fail, Garbage, Hang, Reset, Say, echo, last_user
from tests.teachers.jobs import run_json_job

KEY = "sk-test-7d1f0c9e-not-a-real-key"

FAULTS = {  # prompt -> what the server does (lists play in order; the last action repeats)
    "ok-a": Say("fine answer"),
    "flaky-503": [Fail(503), Say("recovered")],
    "flaky-reset": [Reset(), Say("recovered")],
    "flaky-garbage": [Garbage(), Say("recovered")],
    "flaky-hang": [Hang(5.0), Say("recovered")],
    "always-503": Fail(503),
    "always-429": Fail(429),
    "always-garbage": Garbage('{"choices": []}'),
    "always-hang": Hang(5.0),
    "truncated": Say("cut off mid", finish_reason="length"),
    "empty": Say(""),
}
EXPECTED_REJECTS = {"always-503": "teacher_server_error", "always-429": "teacher_rate_limited",
                    "always-garbage": "teacher_malformed_response", "always-hang": "teacher_timeout",
                    "truncated": "teacher_truncated", "empty": "empty_response",
                    "bad-request": "teacher_bad_request"}


def fault_handler(req):
    prompt = last_user(req)
    if prompt == "bad-request":  # a server that echoes the auth header back in its error body
        return Fail(400, json.dumps({"error": f"bad request from {req.headers.get('Authorization')}"}))
    action = FAULTS.get(prompt, echo(req))
    if isinstance(action, list):
        seen = sum(1 for r in req_log if last_user(r) == prompt)
        return action[min(seen - 1, len(action) - 1)]
    return action


req_log: list = []


@pytest.fixture
def faulty(fake_openai):
    req_log.clear()

    def handler(req):
        req_log.append(req)
        return fault_handler(req)

    fake_openai.handler = handler
    return fake_openai


def test_every_fault_is_retried_or_rejected_and_the_key_never_reaches_disk(faulty, tmp_path):
    prompts = [*FAULTS, "bad-request"]
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": p, "messages": [{"role": "user", "content": p}]} for p in prompts])
    out = tmp_path / "out"
    res = synth("generate", "responses", str(src), "--out", str(out), "--teacher", f"openai:{faulty.url}",
                "--model", "fake-model", "--n", "1", "--retries", "2", "--retry-backoff", "0.01", "--timeout", "2",  # whole request (issue 28)
                "--chunk-size", "3", "--json", env={"SYNTH_API_KEY": KEY})
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    kept = pl.read_parquet(str(out / "data" / "*.parquet"))
    rejects = pl.read_parquet(str(out / "rejects" / "*.parquet"))
    got = dict(zip(rejects["id"].to_list(), rejects["reason"].to_list()))
    assert got == {f"{p}-0": reason for p, reason in EXPECTED_REJECTS.items()}
    answers = {row["task_id"]: row["messages"][-1]["content"] for row in kept.to_dicts()}
    assert answers == {"ok-a": "fine answer", "flaky-503": "recovered", "flaky-reset": "recovered",
                       "flaky-garbage": "recovered", "flaky-hang": "recovered"}
    # retried faults took exactly one extra attempt; permanent ones 1 + --retries; 4xx and bad replies one
    attempts = {p: sum(1 for r in req_log if last_user(r) == p) for p in prompts}
    assert attempts == {"ok-a": 1, "flaky-503": 2, "flaky-reset": 2, "flaky-garbage": 2, "flaky-hang": 2,
                        "always-503": 3, "always-429": 3, "always-garbage": 3, "always-hang": 3, "truncated": 1,
                        "empty": 1, "bad-request": 1}
    assert summary["counts"] == {"input": 12, "output": 5, "rejected": 7,
                                 "rejected_by_reason": dict(sorted(_count(EXPECTED_REJECTS.values()).items()))}
    assert summary["tokens"]["requests"] == 7 and summary["tokens"]["failed_requests"] == 5
    truncated = rejects.filter(pl.col("reason") == "teacher_truncated").to_dicts()[0]
    assert truncated["raw"] == "cut off mid" and truncated["detail"]
    bad = rejects.filter(pl.col("reason") == "teacher_bad_request").to_dicts()[0]
    assert "Bearer ***" in bad["detail"]
    # the key was sent ...
    assert all(r.headers.get("Authorization") == f"Bearer {KEY}" for r in req_log)
    # ... and is nowhere under OUT: data, rejects, manifest, datatrove's executor.json, stats, logs, checkpoints
    leaks = [p for p in out.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaks == [] and len(list(out.rglob("*"))) > 10


def _count(values) -> dict:
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def test_a_dead_teacher_stops_the_run_and_a_rerun_retries_what_it_failed(fake_openai, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": f"q{i}", "question": f"q{i}"} for i in range(10)])
    fake_openai.handler = lambda req: Fail(503)
    out = tmp_path / "out"
    with pytest.raises(UserError, match="3 calls failed in a row, last: teacher_server_error"):
        run_json_job([str(src)], out, fake_openai.url, "fake-model", retries=0, max_failures_in_a_row=3,
                     max_concurrency=1, structured="none")
    assert not (out / "manifest.json").exists()
    answer = json.dumps({"score": 5, "verdict": "good", "reason": "ok", "tags": []})
    fake_openai.handler = lambda req: Say(answer)
    summary = run_json_job([str(src)], out, fake_openai.url, "fake-model", retries=0, max_failures_in_a_row=3,
                           max_concurrency=1, structured="none")
    # the records rejected as teacher_server_error before the stop were tried again, not replayed as rejects
    assert summary["counts"]["output"] == 10 and summary["counts"]["rejected"] == 0


@pytest.mark.parametrize("scenario", ["unauthorized_at_request", "unknown_model", "unreachable"])
def test_unusable_teacher_is_one_line_and_exit_2(fake_openai, tmp_path, scenario):
    src = write_jsonl(tmp_path / "in.jsonl", [{"question": "hi"}])
    url, model, expect = fake_openai.url, "fake-model", ""
    if scenario == "unauthorized_at_request":
        fake_openai.handler = lambda req: Fail(401, '{"error": "invalid key"}')
        expect = "HTTP 401"
    elif scenario == "unknown_model":
        model, expect = "other-model", "'other-model' is not served there; served: fake-model"
    else:
        url, expect = "http://127.0.0.1:9/v1", "cannot reach the endpoint"
    res = synth("generate", "responses", str(src), "--out", str(tmp_path / "out"), "--teacher", f"openai:{url}",
                "--model", model, "--retries", "0", env={"SYNTH_API_KEY": KEY})
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0] and KEY not in res.stderr


def test_bad_prompt_input_names_file_row_and_field(tmp_path, fake_openai):
    src = write_jsonl(tmp_path / "in.jsonl", [{"messages": [{"role": "user", "content": "ok"}]},
                                              {"messages": [{"role": "system", "content": "only system"}]}])
    res = synth("generate", "responses", str(src), "--out", str(tmp_path / "out"), "--teacher",
                f"openai:{fake_openai.url}", "--model", "fake-model")
    assert res.returncode == 2
    assert res.stderr.strip() == f"error: {src}:2: field 'messages': no prompt to answer: expected chat 'messages' " \
                                 "with a non-system message, or a 'prompt'/'question' string"
    assert fake_openai.completions() == []
