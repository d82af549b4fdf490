"""Teacher rollouts with exact replies from a scripted OpenAI-compatible server (real HTTP, the real teacher
layer): the three tool-call formats on the wire, context policies, the LLM answer judge and best-of-k."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest
from synth.pipelines.trajectories.filters import FilterConfig
from synth.pipelines.trajectories.generate import GenSettings, TrajectoryTask
from synth.pipelines.trajectories.harness import HarnessConfig
from synth.pipelines.trajectories.policies import PLACEHOLDER, SUMMARY_HEADER, Policy

from synth.dataset import read_records
from synth.teachers.session import derive_seed
from tests.core.helpers import synth, write_jsonl
from tests.teachers.fake_openai import Say, last_user
from tests.teachers.jobs import run_task_job
from tests.trajectories.fixtures import TINY_TASKS

PLAN = [("search", {"query": "Guido van Rossum"}), ("open", {"doc_id": "python"})]


def turn_of(req) -> int:
    return sum(1 for m in req.messages if m.get("role") == "assistant")


def is_python_task(req) -> bool:
    return len(req.messages) > 1 and (req.messages[1].get("content") or "").startswith("Which language did the Dutch")


def say_call(fmt: str, name: str, args: dict, turn: int) -> Say:
    if fmt == "openai":
        return Say("", tool_calls=[{"id": f"srv{turn}", "type": "function",
                                    "function": {"name": name, "arguments": json.dumps(args)}}])
    if fmt == "mcp_xml":
        return Say(f"Step {turn}.\n\n<use_mcp_tool>\n<server_name>synth</server_name>\n<tool_name>{name}</tool_name>\n"
                   f"<arguments>\n{json.dumps(args)}\n</arguments>\n</use_mcp_tool>")
    return Say(f"<think>step {turn}</think>\n<tool_call>\n{json.dumps({'name': name, 'arguments': args})}\n</tool_call>")


def planned(fmt: str, plan=PLAN, answer: str = "Python"):
    def handler(req):
        turn = turn_of(req)
        if turn < len(plan):
            return say_call(fmt, *plan[turn], turn)
        return Say(f"Done. <answer>{answer}</answer>")
    return handler


def run(tiny, out, url, fmt="hermes", policy=None, rollouts=1, keep="correct", llm_judge=False):
    corpus, tasks = tiny
    settings = GenSettings(rollouts=rollouts, keep=keep, use_llm_judge=llm_judge, filters=FilterConfig(),
                           harness=HarnessConfig(max_turns=8, policy=policy or Policy("full"), tool_format=fmt),
                           provenance={"command": "generate trajectories", "mode": "teacher"})
    return run_task_job(TrajectoryTask(str(corpus), settings), [str(tasks)], out, url, "fake-model",
                        kind="trajectory", backoff=0.01)


@pytest.mark.parametrize("fmt", ["hermes", "openai", "mcp_xml"])
def test_rollouts_in_each_tool_call_format(fake_openai, tiny, tmp_path, fmt):
    fake_openai.handler = planned(fmt)
    summary = run(tiny, tmp_path / "out", fake_openai.url, fmt, policy=Policy("keep_last_k", 1))
    assert summary["counts"]["output"] == 1 and summary["counts"]["rejected_by_reason"] == {"wrong_answer": 2}
    (record,) = read_records([tmp_path / "out"])
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant", "tool", "assistant", "tool",
                                                       "assistant"]
    search, opened = (json.loads(m["content"]) for m in record["messages"] if m["role"] == "tool")
    assert "python" in [r["doc_id"] for r in search["results"]] and opened["doc_id"] == "python"
    assert record["judgement"] == {"correct": True, "method": "exact"}
    assert record["source_format"] == fmt and record["context_policy"] == "keep_last_k:1"
    dutch = [r for r in fake_openai.completions() if is_python_task(r)]
    first, third = dutch[0], dutch[2]
    if fmt == "openai":
        assert [t["function"]["name"] for t in first.body["tools"]] == ["search", "open", "visit"]
        assert third.messages[3]["role"] == "tool" and third.messages[3]["content"] == PLACEHOLDER
    else:
        assert "tools" not in first.body and first.messages[0]["role"] == "system"
        assert ("<tools>" if fmt == "hermes" else "<use_mcp_tool>") in first.messages[0]["content"]
        assert {m["role"] for m in third.messages} == {"system", "user", "assistant"}
        hidden = third.messages[3]["content"]  # keep_last_k:1: the first result is a placeholder by turn 2
        assert PLACEHOLDER in hidden and (hidden.startswith("<tool_response>") == (fmt == "hermes"))
    if fmt == "hermes":
        assert record["messages"][2]["reasoning_content"] == "step 0"


def test_summary_policy_asks_the_teacher_for_notes(fake_openai, tiny, tmp_path):
    plan = [("search", {"query": "Guido"}), ("search", {"query": "CWI"}), ("open", {"doc_id": "python"})]
    notes = []

    def handler(req):
        if "You keep the notes" in last_user(req):
            notes.append(req)
            upto = max(int(n) for n in re.findall(r"^(\d+)\. ", last_user(req), re.MULTILINE))  # the last step summarized
            return Say(f"NOTES-{upto}")
        question = req.messages[1]["content"]
        hidden = int(question.rsplit("NOTES-", 1)[1]) if "NOTES-" in question else 0  # turns the summary covers
        turn = turn_of(req) + hidden
        return say_call("hermes", *plan[turn], turn) if turn < len(plan) else Say("<answer>Python</answer>")
    fake_openai.handler = handler
    run(tiny, tmp_path / "out", fake_openai.url, policy=Policy("summary", 1))
    record = next(r for r in read_records([tmp_path / "out"]) if r["task_id"] == "t-python")
    assert [s["upto"] for s in record["metadata"]["summaries"]] == [1, 2]
    assert len(notes) == 6 and [s["text"] for s in record["metadata"]["summaries"]] == ["NOTES-1", "NOTES-2"]
    python = [r for r in fake_openai.completions() if r not in notes and is_python_task(r)]
    assert len(python) == 4 and SUMMARY_HEADER in python[3].messages[1]["content"]
    assert turn_of(python[3]) == 1  # turns 0-1 summarized, turn 2 in full: the model sees one earlier turn
    assert "Guido" in notes[0].messages[-1]["content"]  # the notes are written from the steps they replace


def test_llm_judge_and_best_of_k(fake_openai, tiny, tmp_path):
    """Rollout r0 answers 'the Python language' after 3 calls (the rule says no, the LLM judge yes); r1 answers
    'Python' after 1 call. --keep best keeps r1. Other tasks answer 'Pascal': judged wrong by the LLM too."""
    corpus, tasks = tiny
    r0 = derive_seed(0, "t-python", "r0/t0")
    long_plan = [("search", {"query": "Guido"}), ("search", {"query": "CWI"}), ("open", {"doc_id": "python"})]
    judged = []

    def handler(req):
        text = last_user(req)
        if "Decide whether a predicted answer" in text:
            judged.append(text)
            return Say(json.dumps({"correct": "Python language" in text, "reason": "same entity" if "Python" in text else "no"}))
        if not is_python_task(req):
            return planned("hermes", PLAN[:1], answer="Pascal")(req)
        if turn_of(req) == 0:
            first = req.body["seed"] == r0
        else:  # which plan this conversation follows: its first call says
            first = '"Guido"' in next(m for m in req.messages if m["role"] == "assistant")["content"]
        if first:
            return planned("hermes", long_plan, answer="Guido van Rossum's Python language")(req)  # no rule settles it
        return planned("hermes", [("search", {"query": "Python creator"})])(req)
    fake_openai.handler = handler
    out = tmp_path / "out"
    res = synth("generate", "trajectories", "--tasks", str(tasks), "--corpus", str(corpus), "--out", str(out),
                "--teacher", f"openai:{fake_openai.url}", "--model", "fake-model", "--rollouts", "2",
                "--judge", "llm", "--max-turns", "6", "--json")
    assert res.returncode == 0, res.stderr
    (kept,) = read_records([out])
    assert kept["id"] == "t-python#r1" and kept["metadata"]["tool_calls"] == 1
    assert kept["judgement"]["method"] == "exact" and kept["provenance"] == {
        "command": "generate trajectories", "mode": "teacher", "teacher": "fake-model", "seed": 0,
        "synth_version": kept["provenance"]["synth_version"]}
    rejects = pl.read_parquet(str(out / "rejects" / "*.parquet")).to_dicts()
    reasons = {r["id"]: r["reason"] for r in rejects}
    assert reasons == {"t-python#r0": "not_best", "t-wirth#r0": "wrong_answer", "t-wirth#r1": "wrong_answer",
                       "t-lisp#r0": "wrong_answer", "t-lisp#r1": "wrong_answer"}
    loser = json.loads(next(r["record"] for r in rejects if r["id"] == "t-python#r0"))
    assert loser["judgement"]["method"] == "llm" and loser["judgement"]["correct"] is True
    assert len(judged) == 5  # the rule settled r1; every other rollout went to the LLM judge
    stats = json.loads((out / "manifest.json").read_text())["stats"]
    assert stats["trajectories"] == 1 and stats["judge_methods"] == {"exact": 1}


@pytest.mark.slow   # a CLI run against the scripted server (~70 s on the loaded 2-core box)
def test_teacher_calls_get_the_provenance_check_and_the_rate_is_in_the_manifest(fake_openai, tiny, tmp_path):
    """Issue 21: with a teacher, its reasoning is kept as written and its calls are checked like the solver's: a
    search that names the hidden entity (Guido van Rossum) before any tool showed it is flagged, and the run's
    manifest reports the count and the rate over all calls."""
    from synth.pipelines.trajectories.provenance import hidden_in_evidence, violations

    corpus, _ = tiny
    task = {**TINY_TASKS[0], "facts": [
        {"kind": "link", "subject": "Guido van Rossum", "subject_id": "guido", "relation": "created",
         "object": "Python", "object_id": "python", "doc_id": "guido", "start": 0, "end": 10, "quote": "Guido van"}]}
    tasks = write_jsonl(tmp_path / "tasks.jsonl", [task])
    plan = [("search", {"query": "Guido van Rossum"}), ("search", {"query": "Dutch programmer CWI"}),
            ("open", {"doc_id": "python"})]
    fake_openai.handler = planned("hermes", plan)
    out = tmp_path / "out"
    res = synth("generate", "trajectories", "--tasks", str(tasks), "--corpus", str(corpus), "--out", str(out),
                "--teacher", f"openai:{fake_openai.url}", "--model", "fake-model", "--max-turns", "6", "--json")
    assert res.returncode == 0, res.stderr
    (record,) = read_records([out])
    thoughts = [m.get("reasoning_content") for m in record["messages"] if m["role"] == "assistant"]
    assert thoughts[:3] == ["step 0", "step 1", "step 2"]          # the teacher writes the reasoning; no narration
    found = violations(record, hidden_in_evidence(record))
    assert found and found[0]["turn"] == 0 and found[0]["reason"] == "names_hidden_entity"
    stats = json.loads((out / "manifest.json").read_text())["stats"]["provenance"]
    assert stats["tool_calls"] == 3 and stats["violations"] == len(found) and stats["trajectories_with_violations"] == 1
    assert stats["violation_rate"] == round(len(found) / 3, 4) and stats["by_reason"]["names_hidden_entity"] == 1
