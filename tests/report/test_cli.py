"""`synth inspect` through the real CLI: tables, --json, --html, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from synth.cli import app

runner = CliRunner()


def test_terminal_report_shows_tables_and_a_trajectory_turn_by_turn(datasets):
    res = runner.invoke(app, ["inspect", str(datasets["trajectory"]), "--samples", "1"], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    out = res.output
    for needle in ("rejects by reason", "incorrect_answer", "distributions", "tool calls per trajectory",
                   "assistant loss flags", "turn labels", "turn label × loss flag", "trajectory tr-"):
        assert needle in out, needle
    assert "[0] system" in out and "] assistant" in out and "] tool · " in out
    assert "loss=1" in out and "(rule)" in out and "→ " in out  # flags, labels and tool calls per turn


def test_terminal_report_for_every_kind_and_a_train_output(datasets):
    expect = {"deepsearch_task": "verification checks", "code_problem": "measured complexity class",
              "preference_pair": "judge margin", "model": "training curves"}
    for kind, needle in expect.items():
        res = runner.invoke(app, ["inspect", str(datasets[kind])], env={"COLUMNS": "160"})
        assert res.exit_code == 0, res.output
        assert needle in res.output, (kind, res.output[:2000])


def test_json_prints_the_statistics(datasets):
    res = runner.invoke(app, ["inspect", str(datasets["deepsearch_task"]), "--json", "--seed", "3"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["kind"] == "deepsearch_task" and report["seed"] == 3
    assert {m["key"] for m in report["metrics"]} >= {"hops", "topology", "tier", "verification"}


def test_html_writes_one_file_and_json_names_it(datasets, tmp_path):
    target = tmp_path / "r" / "report.html"
    res = runner.invoke(app, ["inspect", str(datasets["code_problem"]), "--html", str(target), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["html"] == str(target)
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert not list(target.parent.glob(".*.tmp"))


def test_bad_inputs_exit_2_with_one_line(tmp_path, datasets):
    missing = runner.invoke(app, ["inspect", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file or directory" in missing.output
    bad_kind = runner.invoke(app, ["inspect", str(datasets["trajectory"]), "--kind", "bogus"])
    assert bad_kind.exit_code == 2 and "--kind must be one of" in bad_kind.output
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "messages": []}\n{not json\n')
    res = subprocess.run([sys.executable, "-m", "synth.cli", "inspect", str(broken)], capture_output=True, text=True, check=False)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().count("\n") == 0 and "broken.jsonl:2" in res.stderr and "malformed JSON" in res.stderr
