"""A long teacher rollout survives SIGKILL: the re-run replays the finished turns from the request cache and the
first request that reaches the (scripted) server is the first unfinished turn. 60 turns by default; the
600-turn acceptance run is `slow` (~100 s on 2 busy cores: every turn is an HTTP call plus sqlite commits)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from synth.dataset import read_records
from tests.core.helpers import REPO, write_jsonl
from tests.teachers.fake_openai import Block, Say
from tests.teachers.test_resume import kill, wait_for


def turn_of(req) -> int:
    return sum(1 for m in req.messages if m.get("role") == "assistant")


def script(stuck: threading.Event, block_at: int | None, turns: int):
    def handler(req):
        turn = turn_of(req)
        if turn == block_at:
            return Block(stuck)
        if turn < turns - 1:
            call = {"name": "search", "arguments": {"query": f"python step {turn}", "k": 1}}
            return Say(f"<think>step {turn}</think>\n<tool_call>\n{json.dumps(call)}\n</tool_call>")
        return Say("<answer>Python</answer>")
    return handler


def command(url: str, tasks, corpus, out, turns: int) -> list[str]:
    return [sys.executable, "-m", "synth.cli", "generate", "trajectories", "--tasks", str(tasks), "--corpus",
            str(corpus), "--out", str(out), "--teacher", f"openai:{url}", "--model", "fake-model",
            "--max-turns", str(turns), "--context-policy", "keep_last_k:2", "--max-identical-calls", "0",
            "--retry-backoff", "0.01", "--json"]


@pytest.mark.parametrize("turns,kill_at", [(60, 35), pytest.param(600, 350, marks=pytest.mark.slow)])
def test_long_rollout_resumes_at_its_last_completed_turn(fake_openai, tiny, tmp_path, turns, kill_at):
    corpus, _ = tiny
    tasks = write_jsonl(tmp_path / "task.jsonl", [{"id": "long", "question": "Which language is it?", "answer": "Python"}])
    out, stuck = tmp_path / "out", threading.Event()
    fake_openai.handler = script(stuck, kill_at, turns)
    proc = subprocess.Popen(command(fake_openai.url, tasks, corpus, out, turns), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    wait_for(lambda: any(turn_of(r) == kill_at for r in fake_openai.completions()), proc, timeout=600)
    time.sleep(1.0)  # the request cache commits what was answered
    kill(proc)
    stuck.set()
    assert not (out / "manifest.json").exists() and not list((out / "data").glob("*.parquet"))

    fake_openai.handler = script(stuck, None, turns)
    before = len(fake_openai.completions())
    res = subprocess.run(command(fake_openai.url, tasks, corpus, out, turns), cwd=REPO, capture_output=True, text=True, check=False,
                         timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    resumed = [turn_of(r) for r in fake_openai.completions()[before:]]
    assert resumed == list(range(kill_at, turns))  # completed turns were not sent again
    tokens = json.loads(res.stdout.strip().splitlines()[-1])["tokens"]
    assert (tokens["requests"], tokens["cached_requests"]) == (turns - kill_at, kill_at)
    assert (tokens["tool_calls"], tokens["cached_tool_calls"]) == (turns - 1 - kill_at, kill_at)

    (record,) = read_records([out])
    assistant = [m for m in record["messages"] if m["role"] == "assistant"]
    assert len(assistant) == turns and record["metadata"]["tool_calls"] == turns - 1
    assert [json.loads(m["tool_calls"][0]["function"]["arguments"])["query"] for m in assistant[:-1]] == \
        [f"python step {i}" for i in range(turns - 1)]
    assert assistant[kill_at - 1]["reasoning_content"] == f"step {kill_at - 1}"
    assert record["judgement"]["correct"] is True and record["predicted_answer"] == "Python"
