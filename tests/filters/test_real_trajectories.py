"""Trajectory filters and dedup on real agent trajectories: WebDancer (Hermes `<tool_call>` text) and
tau-bench (OpenAI `tool_calls`), converted by `synth import --from FORMAT` as a user would."""

from __future__ import annotations

import re

import polars as pl
import pytest

from tests.filters.helpers import kept_ids, rejects, run


def _records(out) -> dict[str, dict]:
    frame = pl.read_parquet([str(f) for f in sorted((out / "data").glob("*.parquet"))])
    return {r["id"]: r for r in frame.to_dicts()}


@pytest.fixture(scope="module")
def webdancer(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("webdancer")
    src = shared_data / "trajectories" / "webdancer_sample_traj.hermes.jsonl"
    run("import", str(src), "--kind", "trajectory", "--from", "hermes", "--out", str(folder / "imported"))
    out = folder / "filtered"
    summary = run("filter", str(folder / "imported"), "--out", str(out), "--dedup", "exact,trajectory",
                  "--max-per-answer", "1")
    return _records(folder / "imported"), out, summary


def test_real_duplicate_rollouts_are_removed_naming_the_kept_twin(webdancer):
    records, out, summary = webdancer
    dropped = rejects(out)
    twins = {i: r["detail"] for i, r in dropped.items() if r["reason"] == "duplicate_trajectory"}
    assert twins, "WebDancer's sample holds re-rollouts of the same question with the same tool calls"
    for rid, detail in twins.items():
        kept = detail.split()[1]
        # the twin itself, or (when --max-per-answer removed that twin later) the record kept in its place
        twin = re.search(r" via (\S+), removed later", detail)
        twin = twin.group(1) if twin else kept
        assert kept in kept_ids(out)
        assert records[rid]["question"] == records[twin]["question"]
        assert records[rid]["answer"] == records[twin]["answer"]
    for r in dropped.values():  # every reject names a record that is in the output
        assert r["detail"].split()[1] in kept_ids(out), r
    assert summary["counts"]["input"] == len(records) == 150


def test_cap_per_answer_entity_on_real_answers(webdancer):
    records, out, _ = webdancer
    kept = [records[i] for i in kept_ids(out)]
    answers = [" ".join(str(r["answer"]).lower().split()) for r in kept]
    assert len(answers) == len(set(answers))  # --max-per-answer 1 ("Yes" alone answers 31 of the 150)
    capped = [r for r in rejects(out).values() if r["reason"] == "answer_cap"]
    assert capped and all(r["detail"].split()[1] in records for r in capped)


def test_quality_filters_on_real_tau_bench_dialogs(shared_data, tmp_path):
    src = shared_data / "trajectories" / "tau_bench_gpt4o_airline.openai.json"
    run("import", str(src), "--kind", "trajectory", "--from", "openai", "--out", str(tmp_path / "imported"))
    records = _records(tmp_path / "imported")
    run("filter", str(tmp_path / "imported"), "--out", str(tmp_path / "filtered"))
    dropped = rejects(tmp_path / "filtered")
    # The simulated customer closes most dialogs after the agent's answer: that is not a missing answer.
    # A dialog that ends on a tool result (a transfer to a human agent) has no final assistant answer.
    for rid, record in records.items():
        last = record["messages"][-1]["role"]
        if last == "tool":
            assert dropped[rid]["reason"] == "missing_final_answer", rid
        elif rid in dropped:
            assert dropped[rid]["reason"] != "missing_final_answer", dropped[rid]
    assert len(kept_ids(tmp_path / "filtered")) >= 70
