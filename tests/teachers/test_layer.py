"""The task layer against a scripted server: JSON retries and rejects that keep the raw text, concurrency caps,
seeds, tool-call parsing, failing tools, and the CLI's determinism."""

from __future__ import annotations

import json
import threading
import time

import polars as pl

from synth.teachers.agent import tool_calls_of
from synth.teachers.session import Reply, derive_seed
from tests.core.helpers import synth, write_jsonl
from tests.teachers.fake_openai import Say, by_prompt, last_user
from tests.teachers.jobs import AgentTask, run_json_job, run_task_job

GOOD = json.dumps({"score": 8, "verdict": "good", "reason": "ok", "tags": ["x"]})


def questions(tmp_path, names):
    return str(write_jsonl(tmp_path / "in.jsonl", [{"id": n, "question": n} for n in names]))


def test_json_calls_retry_bad_replies_then_reject_with_the_raw_text(fake_openai, tmp_path):
    fake_openai.handler = by_prompt({
        "fixable": [Say("not json at all"), Say(GOOD)],
        "hopeless": Say('{"score": 99, "verdict": "good", "reason": "", "tags": []}'),
        "prose": Say("Sure! ```json\n" + GOOD + "\n```"),
    })
    summary = run_json_job([questions(tmp_path, ["fixable", "hopeless", "prose"])], tmp_path / "out",
                           fake_openai.url, "fake-model", structured="json_schema")
    kept = pl.read_parquet(str(tmp_path / "out" / "data" / "*.parquet")).to_dicts()
    assert {r["id"]: r["judgement"]["score"] for r in kept} == {"fixable": 8, "prose": 8}
    reject = pl.read_parquet(str(tmp_path / "out" / "rejects" / "*.parquet")).to_dicts()
    assert [(r["id"], r["reason"]) for r in reject] == [("hopeless", "teacher_schema_invalid")]
    assert "score" in reject[0]["detail"] and json.loads(reject[0]["raw"])["score"] == 99
    assert summary["tokens"]["parse_retries"] == 3  # 1 for fixable, 2 for hopeless
    # every JSON call asked for constrained decoding, each retry with a fresh seed
    hopeless = [r.body for r in fake_openai.completions() if "hopeless" in last_user(r)]
    assert all(b["response_format"]["type"] == "json_schema" for b in hopeless)
    assert len({b["seed"] for b in hopeless}) == 3


def test_max_concurrency_caps_requests_in_flight(fake_openai, tmp_path):
    lock, state = threading.Lock(), {"now": 0, "peak": 0}

    def handler(req):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.15)
        with lock:
            state["now"] -= 1
        return Say("fine")

    fake_openai.handler = handler
    src = write_jsonl(tmp_path / "in.jsonl", [{"question": f"q{i}"} for i in range(8)])
    res = synth("generate", "responses", str(src), "--out", str(tmp_path / "out"), "--teacher",
                f"openai:{fake_openai.url}", "--model", "fake-model", "--n", "2", "--max-concurrency", "3")
    assert res.returncode == 0, res.stderr
    assert state["peak"] == 3 and len(fake_openai.completions()) == 16


def test_same_seed_same_output_other_seed_other_payloads(fake_openai, tmp_path):
    fake_openai.handler = lambda req: Say(f"{last_user(req)} seed={req.body['seed']} t={req.body['temperature']}")
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": f"p{i}", "prompt": f"prompt {i}"} for i in range(5)])

    def run(name, seed):
        out = tmp_path / name
        args = ["generate", "responses", str(src), "--out", str(out), "--teacher", f"openai:{fake_openai.url}",
                "--model", "fake-model", "--n", "3", "--seed", str(seed), "--chunk-size", "2", "--temperature", "0.5"]
        assert synth(*args).returncode == 0
        return pl.read_parquet(str(out / "data" / "*.parquet"))

    a, b, c = run("a", 1), run("b", 1), run("c", 2)
    assert a.equals(b) and not a.equals(c)
    assert a["id"].to_list() == [f"p{i}-{k}" for i in range(5) for k in range(3)]  # input order, then k
    texts = [m[-1]["content"] for m in a["messages"].to_list()]
    assert len(set(texts)) == 15 and all(t.endswith("t=0.5") for t in texts)
    assert {json.loads(row["metadata"])["prompt_id"] for row in a.to_dicts()} == {f"p{i}" for i in range(5)}
    assert derive_seed(1, "p0", "candidate0") != derive_seed(2, "p0", "candidate0")


def test_tool_calls_native_and_hermes_and_malformed():
    native = Reply("", "tool_calls", {}, tool_calls=[
        {"id": "c1", "type": "function", "function": {"name": "search", "arguments": '{"q": "x"}'}}])
    assert [(c.id, c.name, c.arguments) for c in tool_calls_of(native, 0)] == [("c1", "search", {"q": "x"})]
    hermes = Reply('think\n<tool_call>{"name": "visit", "arguments": {"url": "u"}}</tool_call>\n'
                   '<tool_call>{"name": "search", "arguments": "{\\"q\\": \\"y\\"}"}</tool_call>', "stop", {})
    assert [(c.name, c.arguments) for c in tool_calls_of(hermes, 2)] == [("visit", {"url": "u"}), ("search", {"q": "y"})]
    broken = tool_calls_of(Reply("<tool_call>{oops</tool_call>", "stop", {}), 0)
    assert broken[0].error and tool_calls_of(Reply("just an answer", "stop", {}), 0) == []


def test_failing_and_unknown_tools_are_observations_not_crashes(fake_openai, tmp_path):
    def handler(req):
        tools = [m for m in req.messages if m.get("role") == "tool"]
        if not tools:
            calls = [{"name": "search", "arguments": {"bad": 1}}, {"name": "nope", "arguments": {}}]
            return Say("".join(f"<tool_call>{json.dumps(c)}</tool_call>" for c in calls))
        return Say("ANSWER: " + " | ".join(t["content"] for t in tools))

    fake_openai.handler = handler
    summary = run_task_job(AgentTask(max_turns=3, log=str(tmp_path / "missing-dir" / "log")),
                           [questions(tmp_path, ["q"])], tmp_path / "out", fake_openai.url, "fake-model")
    assert summary["counts"]["output"] == 1
    row = pl.read_parquet(str(tmp_path / "out" / "data" / "*.parquet")).to_dicts()[0]
    observations = [m["content"] for m in row["messages"] if m["role"] == "tool"]
    assert observations[0].startswith("error: FileNotFoundError")  # the tool raised: the model is told
    assert observations[1].startswith("error: unknown tool 'nope'")
    assert row["metadata"] == {"stop": "answer", "turns": 2, "tool_calls": 2}
