"""SIGKILL a teacher run, re-run it: the result equals a clean run, finished calls are not paid twice, and a
multi-turn trajectory resumes mid-way (its finished turns and tool results replay from datatrove's cache)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import polars as pl
import pytest

from tests.core.helpers import REPO, synth, write_jsonl
from tests.teachers.fake_openai import Block, Say, last_user

TOOL_STEPS = 5  # the scripted agent calls the tool 5 times, then answers


def seeded_echo(req):
    """A reply that depends on the prompt and the request's seed: equal outputs prove equal payloads."""
    return Say(f"{last_user(req)} / seed {req.body.get('seed')}")


def wait_for(predicate, proc, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def kill(proc) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group: nothing gets to clean up
    proc.wait()


def frame(out):
    return pl.read_parquet(str(out / "data" / "*.parquet"))


@pytest.mark.slow
def test_single_shot_sigkill_then_rerun_equals_clean_run(fake_openai, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": f"p{i}", "messages": [{"role": "user", "content": f"prompt {i}"}]}
                                              for i in range(24)])
    args = ["generate", "responses", str(src), "--teacher", f"openai:{fake_openai.url}", "--model", "fake-model",
            "--n", "2", "--chunk-size", "4", "--max-concurrency", "2", "--json"]
    fake_openai.handler = seeded_echo
    clean = tmp_path / "clean"
    assert synth(*args, "--out", str(clean)).returncode == 0
    clean_calls = len(fake_openai.completions())

    stuck = threading.Event()
    fake_openai.handler = lambda req: Block(stuck) if len(fake_openai.completions()) - clean_calls > 26 else seeded_echo(req)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "synth.cli", *args, "--out", str(out)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_for(lambda: len(fake_openai.completions()) - clean_calls > 27, proc)
    time.sleep(1.0)  # let the request cache commit what was answered
    kill(proc)
    stuck.set()
    answered_before_kill = len(fake_openai.completions()) - clean_calls - 2  # the 2 blocked ones got no answer
    committed = len(list((out / ".synth" / "chunks").glob("*.json")))
    assert 0 < committed < 6

    fake_openai.handler = seeded_echo
    before = len(fake_openai.completions())
    res = synth(*args, "--out", str(out))
    assert res.returncode == 0, res.stderr
    rerun_calls = len(fake_openai.completions()) - before
    assert frame(out).equals(frame(clean))
    assert rerun_calls == 48 - answered_before_kill  # nothing answered before the kill was asked again
    tokens, clean_tokens = (json.loads((d / "manifest.json").read_text())["tokens"] for d in (out, clean))
    assert tokens["requests"] + tokens.get("cached_requests", 0) == clean_tokens["requests"] == 48
    assert tokens["prompt_tokens"] == clean_tokens["prompt_tokens"]
    assert tokens["completion_tokens"] == clean_tokens["completion_tokens"]


def agent_script(block_at: int | None, stuck: threading.Event):
    def handler(req):
        turn = sum(1 for m in req.messages if m.get("role") == "tool")
        if block_at is not None and turn == block_at:
            return Block(stuck)
        if turn < TOOL_STEPS:
            call = {"name": "search", "arguments": {"q": f"step {turn} of {last_user(req)}"}}
            return Say(f"thinking {turn}\n<tool_call>{json.dumps(call)}</tool_call>")
        return Say(f"ANSWER: done after {turn} searches")
    return handler


def run_agent(url, src, out, log, wait=True):
    cmd = [sys.executable, "-m", "tests.teachers.jobs", "agent", str(src), str(out), "--url", url,
           "--tool-log", str(log), "--tool-delay", "0.05"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    if wait:
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr.decode()[-3000:]
        return json.loads(stdout.decode().strip().splitlines()[-1])
    return proc


def test_multi_turn_rollout_resumes_mid_trajectory_after_sigkill(fake_openai, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "t0", "question": "who wrote it?"}])
    stuck = threading.Event()
    fake_openai.handler = agent_script(None, stuck)
    clean = run_agent(fake_openai.url, src, tmp_path / "clean", tmp_path / "clean_tools.log")
    assert clean["tokens"]["requests"] == TOOL_STEPS + 1 and clean["tokens"]["tool_calls"] == TOOL_STEPS

    fake_openai.handler = agent_script(3, stuck)  # the 4th model turn never gets an answer
    out, log = tmp_path / "out", tmp_path / "tools.log"
    proc = run_agent(fake_openai.url, src, out, log, wait=False)
    seen = len(fake_openai.completions())
    wait_for(lambda: any(sum(m.get("role") == "tool" for m in r.messages) == 3
                         for r in fake_openai.completions()[seen:]), proc)
    time.sleep(1.0)
    kill(proc)
    stuck.set()
    assert len(log.read_text().splitlines()) == 3  # turns 0-2 ran their tool before the kill

    fake_openai.handler = agent_script(None, stuck)
    before = len(fake_openai.completions())
    summary = run_agent(fake_openai.url, src, out, log)
    resumed = fake_openai.completions()[before:]
    # only turns 3, 4 and the answer reached the server; turns 0-2 and their tool results were replayed
    assert [sum(m.get("role") == "tool" for m in r.messages) for r in resumed] == [3, 4, 5]
    assert len(log.read_text().splitlines()) == TOOL_STEPS  # no tool ran twice
    tokens = summary["tokens"]
    assert (tokens["requests"], tokens["cached_requests"]) == (3, 3)
    assert (tokens["tool_calls"], tokens["cached_tool_calls"]) == (2, 3)
    assert frame(out).equals(frame(tmp_path / "clean"))
    messages = frame(out)["messages"][0].to_list()
    assert [m["role"] for m in messages] == ["user"] + ["assistant", "tool"] * TOOL_STEPS + ["assistant"]
