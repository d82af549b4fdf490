"""Solver trajectories on real FOLDOC tasks (--teacher none): the right answer, honest calls, candidate checks
that really happened, deterministic, and exportable (sft with context-policy variants, rl, other formats)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from synth.pipelines.trajectories import formats
from synth.pipelines.trajectories.envtools import EnvTools
from synth.pipelines.trajectories.export import ExportStep
from synth.pipelines.trajectories.messages import result_error, tool_call_count
from synth.pipelines.trajectories.policies import PLACEHOLDER, SUMMARY_HEADER
from synth.schemas import first_error

from synth.dataset import read_records
from tests.core.helpers import synth, write_jsonl
from tests.trajectories.fixtures import SOLVER_TASKS, manifest


def test_every_solver_path_is_honest_and_right(gold, foldoc):
    """Solver trajectories: the right answer, no call an agent could not have made from the question and earlier
    results, real candidate checks, and reasoning on every turn that names the task's own material."""
    from synth.pipelines.trajectories.provenance import hidden_entities, violations

    tasks = {t["id"]: t for t in read_records([SOLVER_TASKS])}
    records = list(read_records([gold]))
    counts = manifest(gold)["counts"]
    solved = {r["task_id"] for r in records}
    assert len(records) == 2 * len(solved) and len(solved) >= len(tasks) // 3   # 18 of 40; all 200: benchmarks.md
    assert set(counts["rejected_by_reason"]) <= {"solver_unresolved", "solver_budget", "solver_wrong_answer",
                                                 "solver_no_clue", "solver_stuck"}
    kinds = set()
    for record in records:
        task = tasks[record["task_id"]]
        assert record["predicted_answer"] == task["answer"] and record["judgement"]["correct"] is True
        assert record["provenance"]["mode"] == "gold_path" and record["evidence"]["answer_doc_id"] == task["answer_doc_id"]
        assert violations(record, hidden_entities(task)) == []
        notes = record["metadata"]["gold_path"]
        kinds.update(n["kind"] for n in notes)
        assert record["metadata"]["tool_calls"] == tool_call_count(record["messages"]) == len(notes) - 1
        assistant = [m for m in record["messages"] if m["role"] == "assistant"]
        assert all(len(m["reasoning_content"]) > 40 for m in assistant)
        assert assistant[-1]["content"] == f"<answer>{task['answer']}</answer>"
        assert task["answer"] in assistant[-1]["reasoning_content"]
    assert {"query", "confirmed", "answer"} <= kinds <= {"query", "backoff", "confirmed", "ruled_out",
                                                                    "open", "answer"}
    assert any(n["kind"] == "ruled_out" for r in records for n in r["metadata"]["gold_path"])
    assert manifest(gold)["stats"]["stops"] == {"answer": len(records)}
    assert manifest(gold)["stats"]["provenance"]["violations"] == 0
    assert synth("validate", str(gold)).returncode == 0


def subset(foldoc, tmp_path, n=4, gold=None):
    """The first n tasks (with `gold`: of those the solver solves)."""
    tasks = list(read_records([SOLVER_TASKS]))
    if gold is not None:
        solved = {r["task_id"] for r in read_records([gold])}
        tasks = [t for t in tasks if t["id"] in solved]
    return write_jsonl(tmp_path / "subset.jsonl", tasks[:n])


def test_same_seed_same_trajectories_and_rollouts_differ(gold, foldoc, tmp_path):
    out = tmp_path / "again"
    res = synth("generate", "trajectories", "--tasks", str(subset(foldoc, tmp_path, gold=gold)), "--corpus",
                str(foldoc[0]), "--out", str(out), "--rollouts", "2", "--keep", "correct", "--json")
    assert res.returncode == 0, res.stderr
    before = {r["id"]: r for r in read_records([gold])}
    again = list(read_records([out]))
    assert len(again) == 8 and all(r == before[r["id"]] for r in again)
    by_task: dict[str, list] = {}
    for record in before.values():
        by_task.setdefault(record["task_id"], []).append(record["messages"])
    assert any(a != b for a, b in by_task.values())  # k rollouts are not k copies (the reasoning is reworded)


def test_keep_best_prefers_the_fewest_calls(gold, foldoc, tmp_path):
    out = tmp_path / "best"
    res = synth("generate", "trajectories", "--tasks", str(subset(foldoc, tmp_path, gold=gold)), "--corpus",
                str(foldoc[0]), "--out", str(out), "--rollouts", "3", "--keep", "best", "--json")
    assert res.returncode == 0, res.stderr
    kept = list(read_records([out]))
    rejects = pl.read_parquet(str(out / "rejects" / "*.parquet")).to_dicts()
    assert len(kept) == 4 and len({r["task_id"] for r in kept}) == 4 and {r["reason"] for r in rejects} == {"not_best"}
    losers = {}
    for reject in rejects:
        record = json.loads(reject["record"]) if isinstance(reject["record"], str) else reject["record"]
        losers.setdefault(record["task_id"], []).append(tool_call_count(record["messages"]))
    for record in kept:
        assert all(tool_call_count(record["messages"]) <= n for n in losers.get(record["task_id"], []))


def test_export_sft_variants_rl_and_formats(gold, foldoc, tmp_path):
    sft = tmp_path / "sft"
    res = synth("export", "trajectories", str(gold), "--to", "sft", "--out", str(sft),
                "--context-policy", "full,keep_last_k:2,summary:2", "--json")
    assert res.returncode == 0, res.stderr
    variants = list(read_records([sft]))
    assert len(variants) == 3 * manifest(gold)["counts"]["output"]
    for record in variants:
        assert record["tools"] and record["context_policy"] in ("full", "keep_last_k:2", "summary:2")
        tools = [m for m in record["messages"] if m["role"] == "tool"]
        if record["context_policy"] == "keep_last_k:2":
            assert sum(m["content"] != PLACEHOLDER for m in tools) == 2
        if record["context_policy"] == "summary:2":
            assert SUMMARY_HEADER in record["messages"][1]["content"]
    rl = tmp_path / "rl"
    res = synth("export", "trajectories", str(gold), "--to", "rl", "--out", str(rl), "--json")
    assert res.returncode == 0, res.stderr
    rl_tasks = list(read_records([rl]))
    tasks = {t["id"]: t for t in read_records([SOLVER_TASKS])}
    assert sorted(t["id"] for t in rl_tasks) == sorted({r["task_id"] for r in read_records([gold])})
    for task in rl_tasks:
        assert task["gold"]["answer_doc_id"] == tasks[task["id"]]["answer_doc_id"] and task["gold"]["facts"]
        assert [t["function"]["name"] for t in task["environment"]["tools"]] == ["search", "open", "visit"]
        assert task["prompt"][-1]["content"] == task["question"]
    # the step behind the other targets, in process: deepsearch tasks -> rl, trajectories -> hermes text
    env = EnvTools(str(foldoc[0])).spec()
    direct = [ExportStep("rl", ["full"], False, env).process(t) for t in tasks.values()]
    assert all(first_error(r, "rl_task") is None and r["gold"]["entities"] for r in direct)
    step = ExportStep("hermes", ["full"], False)
    for record in list(read_records([gold]))[:6]:
        row = step.process(record)
        assert {m["role"] for m in row["messages"]} <= {"system", "user", "assistant"} and "lossless" not in row
        assert formats.decode(row["messages"], "hermes") == record["messages"]


def test_notes_match_the_tool_results(gold):
    """Every checked candidate was really read (a page, not an error), and every search really listed the
    candidates opened after it."""
    for record in read_records([gold]):
        results = [m for m in record["messages"] if m["role"] == "tool"]
        listed: set[str] = set()
        for note, result in zip(record["metadata"]["gold_path"][:-1], results):
            value = json.loads(result["content"])
            if note["role"] == "search":
                listed |= {r["doc_id"] for r in value["results"]}
            else:
                assert result_error(result["content"]) is None and value["doc_id"] in listed | {note.get("doc_id")}
                listed |= {link["doc_id"] for link in value.get("links") or []}


@pytest.mark.slow
def test_full_foldoc_gold_paths(tmp_path):
    """The whole FOLDOC dictionary: 40 tasks; every solver path ends with the right answer; its confirmations carry
    loss, and a ruled-out check carries loss unless it added nothing (seen whole in the list, or a list scan)."""
    corpus = tmp_path / "foldoc"
    assert synth("corpus", "build", "foldoc", "--out", str(corpus), "--no-dense", "--json").returncode == 0
    tasks = tmp_path / "tasks"
    assert synth("generate", "deepsearch", "--corpus", str(corpus), "--out", str(tasks), "--num", "40",
                 "--json").returncode == 0
    out = tmp_path / "gold"
    assert synth("generate", "trajectories", "--tasks", str(tasks), "--corpus", str(corpus), "--out", str(out),
                 "--json").returncode == 0
    labelled = tmp_path / "labelled"
    assert synth("label", "turns", str(out), "--out", str(labelled), "--json").returncode == 0
    records = list(read_records([labelled]))
    # every kept task passed the generator's honest-solver gate (the same solver, a smaller call budget), so every
    # one gets its gold trajectory
    assert len(records) == manifest(out)["counts"]["output"] == manifest(tasks)["counts"]["output"] >= 1
    assert manifest(out)["stats"]["provenance"]["violations"] == 0
    for record in records:
        assert record["predicted_answer"] == record["answer"]
        turns = [m for m in record["messages"] if m["role"] == "assistant"]
        for note in record["metadata"]["gold_path"]:
            label = turns[note["turn"]]["turn_label"]
            if note["kind"] == "answer":
                assert turns[note["turn"]]["loss"] == 1
            if note["kind"] == "confirmed":  # opening a page the result list already showed whole adds nothing
                assert turns[note["turn"]]["loss"] == 1 or label["label"] == "redundant", label
            if note["kind"] == "ruled_out":
                assert turns[note["turn"]]["loss"] == 1 or label["label"] == "redundant", label
