"""`synth run` end to end through the real CLI: caching, invalidation, failure, resume, selection, lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from tests.run.helpers import chain, run_json, statuses, synth, write_pipeline, write_records


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


def test_cached_rerun_and_a_touched_flag_reruns_that_stage_and_downstream_only(tmp_path):
    write_records(tmp_path / "in.jsonl", 30)
    path = write_pipeline(tmp_path / "p.yaml", chain())
    code, summary, _ = run_json(path)
    assert code == 0 and summary["status"] == "ok"
    assert statuses(summary) == {"first": "ran", "second": "ran", "check": "ran"}
    first, second, check = summary["stages"]
    assert first["counts"]["output"] == second["counts"]["output"] == 30
    assert first["out"] == str(tmp_path / "runs" / "first") and check["out"] is None
    assert second["command"].startswith(f"synth import {tmp_path}/runs/first --kind trajectory")
    assert all(row["seconds"] > 0 for row in summary["stages"])
    before = {name: _mtimes(tmp_path / "runs" / name) for name in ("first", "second")}

    code, summary, _ = run_json(path, "--dry-run")
    assert summary["dry_run"] and {r["status"] for r in summary["stages"]} == {"cached"}
    code, summary, _ = run_json(path)  # nothing changed: nothing runs, nothing is rewritten
    assert code == 0 and set(statuses(summary).values()) == {"cached"}
    assert summary["totals"] == {"ran": 0, "cached": 3, "failed": 0, "capped": 0, "skipped": 0}
    assert summary["stages"][1]["counts"]["output"] == 30  # counts of cached stages come from their manifest
    assert {name: _mtimes(tmp_path / "runs" / name) for name in before} == before

    spec = chain()
    spec["stages"]["first"]["flags"]["workers"] = 2  # how to run, not what comes out: still cached
    code, summary, _ = run_json(write_pipeline(path, spec))
    assert set(statuses(summary).values()) == {"cached"}

    code, summary, _ = run_json(write_pipeline(path, chain(second_format="jsonl")))  # touch the middle stage
    assert code == 0 and statuses(summary) == {"first": "cached", "second": "ran", "check": "ran"}
    assert _mtimes(tmp_path / "runs" / "first") == before["first"]
    data = sorted(p.name for p in (tmp_path / "runs" / "second" / "data").iterdir())
    assert data and all(name.endswith(".jsonl") for name in data)  # the stale parquet output was replaced

    spec = chain(second_format="jsonl")
    spec["stages"]["check"]["flags"] = {"max-errors": 5}  # touch the last stage
    code, summary, _ = run_json(write_pipeline(path, spec))
    assert statuses(summary) == {"first": "cached", "second": "cached", "check": "ran"}

    spec["stages"]["first"]["flags"]["format"] = "jsonl"  # touch the first stage: everything after it runs
    code, summary, _ = run_json(write_pipeline(path, spec))
    assert code == 0 and statuses(summary) == {"first": "ran", "second": "ran", "check": "ran"}


def test_a_failing_stage_stops_the_run_keeps_finished_stages_and_runs_after_the_fix(tmp_path):
    write_records(tmp_path / "in.jsonl", 20)
    write_records(tmp_path / "extra.jsonl", 5, start=100, bad_row=3)
    spec = chain()
    spec["stages"]["second"]["flags"]["inputs"] = ["${stages.first.out}", "extra.jsonl"]
    path = write_pipeline(tmp_path / "p.yaml", spec)
    code, summary, stderr = run_json(path)
    assert code == 2 and summary["exit_code"] == 2 and summary["status"] == "failed"
    assert statuses(summary) == {"first": "ran", "second": "failed", "check": "skipped"}
    failed = summary["stages"][1]
    assert failed["exit_code"] == 2 and "extra.jsonl:3" in failed["error"]
    assert summary["stages"][2]["reason"] == "stage 'second' failed"
    assert "extra.jsonl:3" in stderr  # the stage's own one line reaches the user
    first_files = _mtimes(tmp_path / "runs" / "first")

    write_records(tmp_path / "extra.jsonl", 5, start=100)  # fix the input
    code, summary, _ = run_json(path)
    assert code == 0 and statuses(summary) == {"first": "cached", "second": "ran", "check": "ran"}
    assert summary["stages"][1]["counts"]["output"] == 25
    assert _mtimes(tmp_path / "runs" / "first") == first_files


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _group_members(pgid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _interrupt_when(runner: subprocess.Popen, markers: Path, count: int) -> int:
    """Wait until the running stage has committed `count` chunks; return the stage's pid."""
    deadline = time.time() + 120
    while time.time() < deadline and runner.poll() is None:
        if markers.is_dir() and len(list(markers.glob("*.json"))) >= count:
            break
        time.sleep(0.01)
    stage = _children(runner.pid)
    assert runner.poll() is None and len(stage) == 1, "the stage finished before it could be interrupted"
    return stage[0]


def _stamps(markers: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in markers.glob("*.json")}


@pytest.mark.slow
def test_a_stage_killed_mid_way_exits_non_zero_and_the_rerun_resumes_it(tmp_path):
    n, chunk = 8000, 100  # ~80 commits: room to interrupt twice, even on a fast machine
    write_records(tmp_path / "in.jsonl", 20)
    write_records(tmp_path / "big.jsonl", n, start=1000)
    spec = chain()
    spec["stages"]["second"]["flags"].update(inputs=["${stages.first.out}", "big.jsonl"], **{"chunk-size": chunk})
    spec["stages"]["check"]["args"] = ["${stages.first.out}"]  # keeps the test short; still runs after `second`
    path = write_pipeline(tmp_path / "p.yaml", spec)
    markers = tmp_path / "runs" / "second" / ".synth" / "chunks"
    command = [sys.executable, "-m", "synth.cli", "run", str(path), "--json"]

    runner = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stage = _interrupt_when(runner, markers, 2)
    os.kill(stage, signal.SIGKILL)  # the stage dies mid-way, as under the OOM killer
    stdout, _ = runner.communicate(timeout=60)
    assert _group_members(stage) == []  # what the stage left behind (datatrove's Manager) was ended too
    summary = json.loads(stdout)
    assert runner.returncode == 137 and summary["exit_code"] == 137  # 128 + SIGKILL, as a shell reports it
    assert statuses(summary) == {"first": "ran", "second": "failed", "check": "skipped"}
    killed = _stamps(markers)
    assert 2 <= len(killed) < (n + 20) // chunk

    runner = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stage = _interrupt_when(runner, markers, len(killed) + 2)
    runner.send_signal(signal.SIGTERM)  # a CI cancel: the runner forwards it and records the failure
    stdout, _ = runner.communicate(timeout=60)
    summary = json.loads(stdout)
    assert runner.returncode == 143 and statuses(summary)["second"] == "failed"
    assert summary["stages"][1]["resumed"] is True and _group_members(stage) == []
    terminated = _stamps(markers)
    assert all(terminated[name] == stamp for name, stamp in killed.items()) and len(terminated) < (n + 20) // chunk

    code, summary, _ = run_json(path)
    assert code == 0 and statuses(summary) == {"first": "cached", "second": "ran", "check": "ran"}
    assert summary["stages"][1]["resumed"] is True
    after = _stamps(markers)
    assert all(after[name] == stamp for name, stamp in terminated.items())  # finished chunks kept, not redone
    ids = pl.read_parquet(str(tmp_path / "runs" / "second" / "data" / "*.parquet"))["id"].to_list()
    assert len(ids) == len(set(ids)) == n + 20


def test_only_and_from_select_stages_and_need_existing_inputs(tmp_path):
    write_records(tmp_path / "in.jsonl", 10)
    path = write_pipeline(tmp_path / "p.yaml", chain())
    res = synth("run", str(path), "--only", "second")
    assert res.returncode == 2
    assert res.stderr.strip() == (f"error: stage 'second' needs the output of stage 'first' ({tmp_path}/runs/first), "
                                  "which does not exist yet; run without --only/--from first")
    code, summary, _ = run_json(path, "--only", "first")
    assert statuses(summary) == {"first": "ran", "second": "skipped", "check": "skipped"}
    assert summary["stages"][1]["reason"] == "not selected"
    code, summary, _ = run_json(path, "--from", "second")
    assert code == 0 and statuses(summary) == {"first": "skipped", "second": "ran", "check": "ran"}


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path):
    write_records(tmp_path / "in.jsonl", 10)
    path = write_pipeline(tmp_path / "p.yaml", chain())
    res = synth("run", str(path), "--dry-run")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "# first (will run)",
        f"synth import in.jsonl --kind trajectory --chunk-size 10 --out {tmp_path}/runs/first",
        "# second (will run)",
        f"synth import {tmp_path}/runs/first --kind trajectory --format parquet --out {tmp_path}/runs/second",
        "# check (will run)",
        f"synth validate {tmp_path}/runs/second",
    ]
    assert not (tmp_path / "runs").exists()


def test_unavailable_commands_bad_flags_and_a_busy_workdir_are_refused_up_front(tmp_path):
    write_records(tmp_path / "in.jsonl", 10)
    spec = chain()
    spec["stages"]["later"] = {"command": "generate nothing", "args": ["${stages.second.out}"]}
    path = write_pipeline(tmp_path / "p.yaml", spec)
    res = synth("run", str(path))
    assert res.returncode == 2 and "stage 'later': 'synth generate nothing' is not a synth command" in res.stderr
    assert not (tmp_path / "runs").exists()  # refused before the first stage ran

    spec = chain()
    spec["stages"]["second"]["flags"]["chunk-size"] = "lots"
    res = synth("run", str(write_pipeline(path, spec)))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "stage 'second': 'synth import': Invalid value for '--chunk-size'" in res.stderr

    from synth.run.cache import workdir_lock

    with workdir_lock(tmp_path / "runs"):
        res = synth("run", str(write_pipeline(path, chain())))
    assert res.returncode == 2 and "another 'synth run' is using this workdir" in res.stderr


def test_a_capped_stage_is_capped_not_failed_stops_downstream_and_resumes_when_raised(fake_openai, tmp_path):
    """A stage stopped by its budget (exit 3) shows as `capped`, the stages after it do not run, the run exits
    3; raising the cap in the file (a runtime flag: it never invalidates the cache) resumes that stage."""
    from tests.caps.helpers import priced_echo, prompts

    fake_openai.handler = priced_echo
    prompts(tmp_path, n=6)
    flags = {"teacher": f"openai:{fake_openai.url}", "model": "fake-model", "n": 2, "chunk-size": 2,
             "max-concurrency": 2, "retry-backoff": 0.01, "max-tokens-total": 60}
    spec = {"workdir": "runs", "stages": {
        "responses": {"command": "generate responses", "args": ["prompts.jsonl"], "flags": flags},
        "check": {"command": "validate", "args": ["${stages.responses.out}"]}}}
    path = write_pipeline(tmp_path / "p.yaml", spec)
    code, summary, stderr = run_json(path)
    assert code == 3 and summary["exit_code"] == 3 and summary["status"] == "capped", stderr
    assert statuses(summary) == {"responses": "capped", "check": "skipped"}
    assert summary["totals"]["capped"] == 1 and summary["totals"]["failed"] == 0
    assert summary["stages"][1]["reason"] == "stage 'responses' was capped by its budget; raise the cap and re-run to resume"
    assert "responses: capped by its budget" in stderr
    sent = len(fake_openai.completions())
    assert 0 < sent < 12

    from typer.testing import CliRunner

    from synth.cli import app

    table = CliRunner().invoke(app, ["run", str(path)], env={"COLUMNS": "200"})  # the human summary table
    rows = [line for line in table.stdout.splitlines() if line.startswith("│ responses")]
    assert table.exit_code == 3 and "p.yaml: capped" in table.stdout, table.stdout
    assert len(rows) == 1 and "capped (resumed) exit 3" in rows[0], table.stdout  # it resumed, and hit the cap again
    assert len(fake_openai.completions()) == sent  # the cap still stands: nothing more was asked

    flags["max-tokens-total"] = 10_000
    write_pipeline(path, spec)
    code, summary, stderr = run_json(path)
    assert code == 0, stderr
    assert statuses(summary) == {"responses": "ran", "check": "ran"} and summary["stages"][0]["resumed"]
    assert summary["stages"][0]["counts"]["output"] == 12 and len(fake_openai.completions()) == 12
