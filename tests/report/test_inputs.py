"""Inputs other than finished dataset directories: plain files, half-finished runs, odd records."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from synth.report.collect import collect


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_plain_jsonl_kind_is_sniffed_and_missing_fields_are_just_absent(tmp_path):
    minimal = [{"id": f"t{i}", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
               for i in range(5)]
    report = collect(_write(tmp_path / "t.jsonl", minimal))
    keys = {m["key"] for m in report["metrics"]}
    assert report["kind"] == "trajectory" and report["records"] == 5 and report["manifest"] is None
    assert {"messages", "turns", "tool_calls", "loss_flags"} <= keys
    assert not keys & {"turn_labels", "loss_ratio", "correct", "label_loss"}  # nothing there: nothing shown
    assert next(m for m in report["metrics"] if m["key"] == "loss_flags")["counts"] == {"unlabelled": 5}


def test_records_with_wrong_types_are_counted_and_the_rest_still_reported(tmp_path):
    odd = [{"id": "a", "question": "q", "answer": "a", "facts": "not a list", "hops": "three", "tier": ["x"],
            "verification": [1, 2], "operators": {"op": 1}},
           {"id": "b", "question": "q", "answer": "a", "facts": [{"doc_id": "d"}], "hops": 2, "tier": "rl",
            "verification": {"support": "passed"}}]
    report = collect(_write(tmp_path / "d.jsonl", odd), kind="deepsearch_task")
    hops = next(m for m in report["metrics"] if m["key"] == "hops")
    assert hops["n"] == 1 and report["records"] == 2
    verification = next(m for m in report["metrics"] if m["key"] == "verification")
    assert verification["rows"] == {"support": {"passed": 1}}


def test_a_run_without_manifest_yet_shows_its_committed_shards(datasets, tmp_path):
    copy = tmp_path / "running"
    shutil.copytree(datasets["code_problem"], copy)
    (copy / "manifest.json").unlink()
    report = collect(copy)
    finished = collect(datasets["code_problem"])
    assert report["kind"] == "code_problem" and report["records"] == finished["records"]
    assert report["metrics"] == finished["metrics"]  # parquet JSON-text columns decoded all the same
    assert "no manifest.json yet" in report["warnings"][0]


def test_jsonl_shards_and_generic_kind(tmp_path):
    from synth.engine import Job, Runtime, run_job

    src = _write(tmp_path / "g.jsonl", [{"id": str(i), "text": "x" * i, "score": i / 10} for i in range(7)])
    out = tmp_path / "generic"
    run_job(Job(command="import", out=out, kind="generic", config={}, inputs=[str(src)], fmt="jsonl"),
            Runtime(progress=False))
    report = collect(out)
    fields = next(m for m in report["metrics"] if m["key"] == "fields")
    assert report["kind"] == "generic" and report["records"] == 7
    assert fields["counts"] == {"id": 7, "score": 7, "text": 7}


def test_manifest_and_data_disagreeing_is_refused(datasets, tmp_path):
    """A shard missing from a synth dataset is refused (exit 2, naming the shard), not summarised with a
    warning: every command checks its inputs against the manifest's shard certificates (issue 28)."""
    from synth.errors import InputError

    copy = tmp_path / "damaged"
    shutil.copytree(datasets["deepsearch_task"], copy)
    first = min((copy / "data").glob("*.parquet"))
    first.unlink()
    with pytest.raises(InputError, match=rf"{first.name}: missing"):
        collect(copy)


def test_real_public_files_are_summarised_and_rendered(shared_data):
    """Real quirky data (not synth's own): every QA and trajectory sample is read and drawn, not crashed on."""
    from rich.console import Console

    from synth.report.html import render_html
    from synth.report.terminal import render

    files = sorted([*shared_data.glob("qa/*.jsonl"), *shared_data.glob("trajectories/*.json*")])
    assert len(files) >= 6
    for path in files:
        report = collect(path, samples=1)
        assert report["records"] > 0 and report["metrics"], path
        with open(os.devnull, "w") as sink:
            render(report, Console(file=sink, width=120))
        assert render_html(report).count("<svg") >= 1
    hermes = collect(shared_data / "trajectories" / "webdancer_sample_traj.hermes.jsonl")
    assert hermes["kind"] == "trajectory" and hermes["records"] == 150
