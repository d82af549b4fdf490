"""Gold-path trajectories on real FOLDOC tasks (--teacher none): the right answer every time, distractors where
the annotations say, deterministic, and exportable (sft with context-policy variants, rl, other formats)."""

from __future__ import annotations

import json
from itertools import pairwise

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
from tests.trajectories.fixtures import manifest


def test_every_gold_path_ends_with_the_right_answer(gold, foldoc):
    tasks = {t["id"]: t for t in read_records([foldoc[1]])}
    records = list(read_records([gold]))
    counts = manifest(gold)["counts"]
    assert counts["rejected"] == 0 and len(records) == 2 * len(tasks) >= 24
    kinds = set()
    for record in records:
        task = tasks[record["task_id"]]
        assert record["predicted_answer"] == task["answer"] and record["judgement"]["correct"] is True
        assert record["messages"][-1]["content"] == f"<answer>{task['answer']}</answer>"
        assert record["provenance"]["mode"] == "gold_path" and record["evidence"]["answer_doc_id"] == task["answer_doc_id"]
        notes = record["metadata"]["gold_path"]
        kinds.update(n["kind"] for n in notes if n["role"] == "distractor")
        assert record["metadata"]["tool_calls"] == tool_call_count(record["messages"]) == len(notes) - 1
        # every distractor that failed is followed by the gold call that recovers
        for note, nxt in pairwise(notes):
            if note["kind"] == "failed_call":
                assert nxt["role"] == "gold"
    assert kinds == {"irrelevant_search", "redundant_open", "failed_call"}
    assert manifest(gold)["stats"]["stops"] == {"answer": len(records)}
    assert synth("validate", str(gold)).returncode == 0


def subset(foldoc, tmp_path, n=4):
    return write_jsonl(tmp_path / "subset.jsonl", list(read_records([foldoc[1]]))[:n])


def test_same_seed_same_trajectories_and_rollouts_differ(gold, foldoc, tmp_path):
    out = tmp_path / "again"
    res = synth("generate", "trajectories", "--tasks", str(subset(foldoc, tmp_path)), "--corpus", str(foldoc[0]),
                "--out", str(out), "--rollouts", "2", "--keep", "correct", "--json")
    assert res.returncode == 0, res.stderr
    before = {r["id"]: r for r in read_records([gold])}
    again = list(read_records([out]))
    assert len(again) == 8 and all(r == before[r["id"]] for r in again)
    by_task: dict[str, list] = {}
    for record in before.values():
        by_task.setdefault(record["task_id"], []).append(record["metadata"]["gold_path"])
    assert any(a != b for a, b in by_task.values())  # k rollouts are not k copies


def test_keep_best_prefers_the_fewest_calls(foldoc, tmp_path):
    out = tmp_path / "best"
    res = synth("generate", "trajectories", "--tasks", str(subset(foldoc, tmp_path)), "--corpus", str(foldoc[0]),
                "--out", str(out), "--rollouts", "3", "--keep", "best", "--distractors", "2", "--json")
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
    tasks = {t["id"]: t for t in read_records([foldoc[1]])}
    assert sorted(t["id"] for t in rl_tasks) == sorted(tasks)
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


def test_failed_calls_really_fail(gold):
    for record in read_records([gold]):
        tool_results = [m for m in record["messages"] if m["role"] == "tool"]
        notes = record["metadata"]["gold_path"][:-1]
        for note, result in zip(notes, tool_results):
            assert (result_error(result["content"]) is not None) == (note["kind"] == "failed_call")


@pytest.mark.slow
def test_full_foldoc_gold_paths(tmp_path):
    """The whole FOLDOC dictionary: 40 tasks, every gold path ends with the right answer, labels match."""
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
    assert len(records) == manifest(tasks)["counts"]["output"]
    for record in records:
        assert record["predicted_answer"] == record["answer"]
        turns = [m for m in record["messages"] if m["role"] == "assistant"]
        for note in record["metadata"]["gold_path"]:
            assert turns[note["turn"]]["loss"] == (0 if note["role"] == "distractor" else 1)
