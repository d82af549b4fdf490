"""`synth generate code` and `synth reward code` end to end through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from tests.core.helpers import synth, write_jsonl

REPO = Path(__file__).resolve().parents[2]
PICK = ("max_subarray", "valid_brackets", "stdio_distinct_chars")


def _seeds(tmp_path: Path) -> Path:
    rows = [json.loads(line) for line in (REPO / "examples" / "code_seeds.jsonl").read_text().splitlines()]
    return write_jsonl(tmp_path / "seeds.jsonl", [r for r in rows if r["id"] in PICK])


def test_generate_validate_resume_and_reward(tmp_path):
    seeds, out = _seeds(tmp_path), tmp_path / "problems"
    # CPU-time profiles: instruction counting (the default where valgrind is installed) costs ~50x the CPU,
    # and this test is about the command's flow; tests/eval/test_code.py builds with the default
    flow = ("--complexity-counter", "time")
    res = synth("generate", "code", "--seeds", str(seeds), "--num", "3", "--out", str(out), "--json", *flow)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["counts"]["output"] == 3
    frame = pl.read_parquet(str(out / "data" / "*.parquet"))
    assert sorted(frame["id"].to_list()) == sorted(PICK)
    assert all(frame["mutation_score"].to_list()) and all(n >= 5 for n in frame["tests"].list.len().to_list())
    assert synth("validate", str(out)).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "generate code"
    # Re-running resumes: nothing left to do, same records.
    again = synth("generate", "code", "--seeds", str(seeds), "--num", "3", "--out", str(out), "--json", *flow)
    assert again.returncode == 0 and pl.read_parquet(str(out / "data" / "*.parquet"))["id"].to_list() == frame["id"].to_list()

    comps = write_jsonl(tmp_path / "completions.jsonl", [
        {"id": "good", "problem_id": "valid_brackets", "completion":
         "```python\ndef valid_brackets(s):\n    st = []\n    for c in s:\n        if c in '([{':\n            st.append(c)\n"
         "        elif not st or '([{'[')]}'.index(c)] != st.pop():\n            return False\n    return not st\n```"},
        {"id": "lost", "problem_id": "no_such_problem", "completion": "x"},
    ])
    res = synth("reward", "code", "--problems", str(out), "--completions", str(comps), "--out", str(tmp_path / "r"), "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["counts"]["output"] == 1 and summary["counts"]["rejected_by_reason"] == {"unknown_problem": 1}
    row = pl.read_parquet(str(tmp_path / "r" / "data" / "*.parquet")).row(0, named=True)
    assert (row["format"], row["correctness"], row["time"], row["total"]) == (1.0, 1.0, 1.0, 3.0)
    assert row["violations"] == [] and row["time_failure"] is None


def test_bad_seed_and_bad_completion_exit_2_with_one_line(tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "x", "prompt": "p", "entry_point": "f",
                                                "reference_solution": "def g():\n    pass\n"}])
    res = synth("generate", "code", "--seeds", str(bad), "--out", str(tmp_path / "o"))
    assert res.returncode == 2
    assert res.stderr.strip() == f"error: {bad}:1: field 'reference_solution': must define a top-level function f()"
    comps = write_jsonl(tmp_path / "c.jsonl", [{"problem_id": "a"}])
    res = synth("reward", "code", "--problems", str(tmp_path), "--completions", str(comps), "--out", str(tmp_path / "r"))
    assert res.returncode == 2 and "field 'completion'" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = synth("generate", "code", "--seeds", str(bad), "--out", str(tmp_path / "o2"), "--teacher", "openai:http://x")
    assert res.returncode == 2
    good = write_jsonl(tmp_path / "g.jsonl", [{"problem_id": "a", "completion": "x"}])
    res = synth("reward", "code", "--problems", str(tmp_path), "--completions", str(good), "--out", str(tmp_path / "r2"),
                "--violations", "warn")
    assert res.returncode == 2 and res.stderr.strip() == "error: --violations must be penalize or ignore, not 'warn'"


def test_an_unknown_complexity_counter_is_one_line_and_exit_2(tmp_path):
    seeds = write_jsonl(tmp_path / "s.jsonl", [{"id": "x", "prompt": "p", "entry_point": "f",
                                                "reference_solution": "def f():\n    pass\n"}])
    res = synth("generate", "code", "--seeds", str(seeds), "--out", str(tmp_path / "o"), "--complexity-counter", "wall")
    assert res.returncode == 2 and not (tmp_path / "o").exists()
    assert res.stderr.strip() == "error: --complexity-counter 'wall': expected one of auto, instructions, time"
