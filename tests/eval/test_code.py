"""`synth eval code` with exact completions from a scripted OpenAI-compatible server, scored for real in the
sandbox with the gated reward: pass@1, the time reward only for passing linear code, failure kinds."""

from __future__ import annotations

import json

from synth.dataset import read_manifest, read_records
from synth.teachers.session import derive_seed
from tests.code.test_reward import LINEAR, QUADRATIC
from tests.core.helpers import synth, write_jsonl
from tests.teachers.fake_openai import Say, last_user

SUM_WRONG = "```python\ndef sum_list(xs):\n    return sum(xs[1:])\n```"


def scripted(req):
    """equal_pairs: sample 0 linear (passes, fast), sample 1 quadratic (passes, slow);
    sum_list: sample 0 no code at all, sample 1 code that fails a test."""
    first = req.body["seed"] in (derive_seed(0, "equal_pairs", "s0"), derive_seed(0, "sum_list", "s0"))
    if "equal_pairs" in last_user(req):
        return Say(LINEAR if first else QUADRATIC)
    return Say("I would rather not write code." if first else SUM_WRONG)


def test_pass_at_1_and_the_gated_time_reward(problems, fake_openai, tmp_path):
    fake_openai.handler = scripted
    out = tmp_path / "eval"
    res = synth("eval", "code", "--teacher", f"openai:{fake_openai.url}", "--model", "fake-model",
                "--problems", str(problems), "--samples", "2", "--temperature", "0.5", "--out", str(out), "--json")
    assert res.returncode == 0, res.stderr
    results = json.loads(res.stdout)["results"]
    assert results["pass_at_1"] == 0.5 and results["pass_at_k"] == 0.5 and results["samples"] == 4
    assert results["failures"] == {"passed": 1, "wrong_answer": 1}
    assert results["mean_time"] == 0.25                      # only the linear, passing sample earns it
    # The reference's measured class keys `by_class`. Instruction counts make it exact (O(n)); on the CPU
    # clock a loaded machine can read this O(n) loop as O(n log n) (cache effects), which changes the key
    # but not the accounting checked here.
    built = [json.loads(line) for line in problems.read_text().splitlines()]
    complexity = next(p["complexity"] for p in built if p["id"] == "equal_pairs")
    assert complexity["class"] == "O(n)" or (complexity["counter"] == "time" and complexity["class"] == "O(n log n)")
    assert results["by_class"][complexity["class"]]["accuracy"] == 1.0
    records = {r["id"]: r for r in read_records([out])}
    pairs, total = records["equal_pairs"], records["sum_list"]
    assert (pairs["passed"], pairs["score"], pairs["reward"]["time"], pairs["reward"]["total"]) == (2, 1.0, 0.5, 2.5)
    fast, slow = pairs["samples"]
    assert (fast["time"], slow["time"]) == (1.0, 0.0) and slow["completion_class"] in ("O(n^2)", "O(n^3)")
    assert (total["passed"], total["failure"]) == (0, "wrong_answer")
    none, wrong = total["samples"]
    assert none["format"] == 0.0 and none["format_error"] and wrong["format"] == 1.0
    assert 0 < wrong["correctness"] < 1 and wrong["time"] == 0.0 and not wrong["passed"]
    assert read_manifest(out)["stats"] == results
    assert synth("validate", str(out)).returncode == 0


def test_a_bad_problem_file_is_one_line_and_exit_2(fake_openai, tmp_path):
    bad = write_jsonl(tmp_path / "p.jsonl", [{"id": "x", "style": "function", "prompt": "p"}])
    res = synth("eval", "code", "--teacher", f"openai:{fake_openai.url}", "--model", "fake-model",
                "--problems", str(bad), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "p.jsonl" in res.stderr and len(res.stderr.strip().splitlines()) == 1
