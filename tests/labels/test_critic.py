"""The LLM critic with exact verdicts from a scripted OpenAI-compatible server: labels become loss flags and
weights, every turn is reviewed once, and an unparsable critic reply rejects the trajectory with its raw text."""

from __future__ import annotations

import json
import re

import polars as pl

from synth.dataset import read_records
from tests.core.helpers import synth, write_jsonl
from tests.teachers.fake_openai import Say, last_user
from tests.trajectories.fixtures import manifest

DEEP = re.compile(r'Tool calls: search\(\{.*"k": 50\}\)')   # the scripted critic dislikes deep re-queries


def critic(req):
    text = last_user(req)
    if "The step under review" not in text:
        return Say("?")
    if DEEP.search(text):
        return Say(json.dumps({"logical_soundness": 2, "call_accuracy": 2, "information_gain": 1,
                               "label": "unnecessary", "reason": "it learns nothing new"}))
    return Say(json.dumps({"logical_soundness": 5, "call_accuracy": 4, "information_gain": 4,
                           "label": "essential", "reason": "moves toward the answer"}))


def label(fake_openai, src, out):
    return synth("label", "turns", str(src), "--out", str(out), "--judge", "llm", "--teacher",
                 f"openai:{fake_openai.url}", "--model", "fake-model", "--retry-backoff", "0.01", "--json")


def test_critic_labels_become_loss_and_weights(fake_openai, gold, tmp_path):
    src = write_jsonl(tmp_path / "three.jsonl", list(read_records([gold]))[:3])
    fake_openai.handler = critic
    out = tmp_path / "out"
    res = label(fake_openai, src, out)
    assert res.returncode == 0, res.stderr
    records = list(read_records([out]))
    turns = 0
    for record in records:
        assistant = [m for m in record["messages"] if m["role"] == "assistant"]
        for message in assistant:
            tag = message["turn_label"]
            assert tag["judge"] == "llm:fake-model" and set(tag["scores"]) == {"logical_soundness", "call_accuracy",
                                                                                "information_gain"}
            deep = any(c["function"]["name"] == "search" and json.loads(c["function"]["arguments"]).get("k") == 50
                       for c in message.get("tool_calls") or [])
            if deep:
                assert (message["loss"], message["weight"], tag["label"]) == (0, 0.0, "unnecessary")
            else:
                assert (message["loss"], message["weight"], tag["label"]) == (1, round(13 / 15, 4), "essential")
            turns += 1
        assert all(m["loss"] == 0 for m in record["messages"] if m["role"] != "assistant")
    reviews = [r for r in fake_openai.completions() if "The step under review" in last_user(r)]
    assert len(reviews) == turns  # one review per assistant turn
    stats = manifest(out)["stats"]
    assert stats["assistant_turns"] == turns and "essential" in stats["labels"]
    assert set(stats["labels"]) <= {"essential", "unnecessary"}
    assert manifest(out)["tokens"]["requests"] == turns


def test_an_unparsable_critic_reply_rejects_the_trajectory(fake_openai, gold, tmp_path):
    every = list(read_records([gold]))
    records = [every[0], next(r for r in every if r["task_id"] != every[0]["task_id"])]
    src = write_jsonl(tmp_path / "two.jsonl", records)
    bad_question = records[1]["question"]
    fake_openai.handler = lambda req: Say("I think it is fine.") if bad_question in last_user(req) else critic(req)
    out = tmp_path / "out"
    res = label(fake_openai, src, out)
    assert res.returncode == 0, res.stderr
    assert [r["id"] for r in read_records([out])] == [records[0]["id"]]
    (reject,) = pl.read_parquet(str(out / "rejects" / "*.parquet")).to_dicts()
    assert reject["reason"] == "teacher_unparsable" and reject["raw"] == "I think it is fine."
