"""`synth generate code --teacher`: scripted teacher replies (real HTTP) -> sandbox-verified problems or rejects."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from synth.dataset import read_records
from tests.core.helpers import synth, write_jsonl
from tests.teachers.fake_openai import Say, by_prompt, last_user

KEY = "sk-test-never-on-disk-8c1f"
SEED = {"id": "sum", "prompt": "Return the sum of `xs`.", "entry_point": "total",
        "reference_solution": "def total(xs):\n    return sum(xs)\n"}
GENERATOR = "def generate(n, rng):\n    return [[rng.randint(-50, 50) for _ in range(n)]]\n"
SQUARES = "def sum_sq(xs):\n    s = 0\n    for x in xs:\n        s += x * x\n    return s\n"
PROBLEM = {"prompt": "Return the sum of the squares of `xs`.", "entry_point": "sum_sq", "complexity": "O(n)",
           "reference_solution": SQUARES, "generator": GENERATOR,
           "validator": "def validate(xs):\n    return all(-50 <= x <= 50 for x in xs)\n"}
EVOLVE, REVERSE, STATEMENT, COMPLEXITY, SOLVE = ("Write a NEW problem", "Invent an algorithmic function",
                                                  "Write the problem statement", "What is the time complexity",
                                                  "Write a Python function")


def run(server, tmp_path: Path, *extra: str) -> tuple[list[dict], list[dict], dict, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    seeds, out = write_jsonl(tmp_path / "seeds.jsonl", [SEED]), tmp_path / "out"
    res = synth("generate", "code", "--seeds", str(seeds), "--num", "1", "--out", str(out), "--min-tests", "5",
                "--generated-tests", "12", "--hypothesis-tests", "0", "--max-mutants", "12",
                "--teacher", f"openai:{server.url}", "--model", "fake-model", "--retry-backoff", "0", "--json",
                "--complexity-counter", "time",  # the teacher flow is under test, not the (50x dearer) counter
                *extra, env={"SYNTH_API_KEY": KEY})
    assert res.returncode == 0, res.stderr
    assert KEY not in res.stdout + res.stderr
    kept = list(read_records([out]))
    rejects = pl.read_parquet(str(out / "rejects" / "*.parquet")).to_dicts() if (out / "rejects").exists() else []
    return kept, rejects, json.loads(res.stdout), out


def _chats(server) -> list:
    return [r for r in server.requests if r.path.endswith("/chat/completions")]


def _no_key_on_disk(out: Path) -> None:
    for path in out.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_an_evolved_problem_that_verifies_is_kept(fake_openai, tmp_path):
    fake_openai.handler = by_prompt({EVOLVE: Say(json.dumps(PROBLEM)), COMPLEXITY: Say(json.dumps({"complexity": "O(n)"}))})
    (problem,), rejects, _, out = run(fake_openai, tmp_path, "--llm-complexity", "--seed", "3")
    assert rejects == [] and problem["id"] == "sum-t0" and problem["entry_point"] == "sum_sq"
    assert problem["prompt"] == PROBLEM["prompt"] and len(problem["tests"]) >= 5
    assert problem["test_sources"]["generator"] >= 5 and problem["mutation_score"] >= 0.8
    assert problem["complexity"]["predicted"] == "O(n)" and problem["complexity"]["declared"] == "O(n)"
    prov = problem["provenance"]
    assert (prov["mode"], prov["seed_id"], prov["teacher"], prov["seed"]) == ("evolved", "sum", "fake-model", 3)
    # expected outputs come from the sandboxed reference, not from the teacher
    assert all(json.loads(t["expected"]) == sum(x * x for x in json.loads(t["input"])[0]) for t in problem["tests"])
    seeds = {r.body["seed"] for r in _chats(fake_openai)}
    assert len(seeds) == 2  # one problem call, one complexity call: per-call seeds derived from --seed
    assert synth("validate", str(out)).returncode == 0
    _no_key_on_disk(out)
    before = len(_chats(fake_openai))  # a re-run on the same --out resumes: nothing left to ask the teacher
    (again,), _, _, _ = run(fake_openai, tmp_path, "--llm-complexity", "--seed", "3")
    assert again == problem
    assert len(_chats(fake_openai)) == before


def test_malformed_json_is_rejected_with_the_raw_text_kept(fake_openai, tmp_path):
    fake_openai.handler = by_prompt({EVOLVE: Say('{"entry_point": "sum_sq", oops')})
    kept, (reject,), summary, out = run(fake_openai, tmp_path, "--retries", "0")
    assert kept == [] and reject["reason"] == "teacher_parse_error" and "oops" in reject["raw"]
    assert summary["counts"]["rejected_by_reason"] == {"teacher_parse_error": 1}
    # the parse failure was re-sampled (parse retries), each attempt with its own seed
    calls = _chats(fake_openai)
    assert len(calls) == 3 and len({c.body["seed"] for c in calls}) == 3
    _no_key_on_disk(out)


def test_schema_violation_and_a_reference_failing_its_own_tests_are_rejected(fake_openai, tmp_path):
    fake_openai.handler = by_prompt({EVOLVE: Say(json.dumps({"entry_point": "f"}))})
    _, (reject,), _, _ = run(fake_openai, tmp_path / "a")
    assert reject["reason"] == "teacher_schema_violation"
    crashing = {**PROBLEM, "reference_solution": "def sum_sq(xs):\n    return xs[0] ** 2 + sum_sq(xs[1:])\n"}
    fake_openai.handler = by_prompt({EVOLVE: Say(json.dumps(crashing))})
    kept, (reject,), _, _ = run(fake_openai, tmp_path / "b", "--no-complexity")
    assert kept == [] and reject["reason"] == "too_few_tests" and "reference_" in reject["detail"]


def test_reverse_writes_the_statement_last(fake_openai, tmp_path):
    seen = []
    reverse = {k: v for k, v in PROBLEM.items() if k != "prompt"}
    routes = by_prompt({REVERSE: Say(json.dumps(reverse))})

    def handler(req):
        if STATEMENT in last_user(req):
            seen.append(last_user(req))
            return Say(json.dumps({"prompt": "Given integers xs, return the sum of their squares."}))
        return routes(req)

    fake_openai.handler = handler
    (problem,), rejects, _, _ = run(fake_openai, tmp_path, "--reverse", "--no-complexity")
    assert rejects == [] and problem["prompt"] == "Given integers xs, return the sum of their squares."
    assert problem["provenance"]["mode"] == "reverse"
    assert "f(*" in seen[0] and SQUARES in seen[0]  # the statement saw the verified tests and solution
    # determinism: the same seeds and --seed give the same requests and the same record
    first = [(r.body["seed"], r.body["messages"]) for r in _chats(fake_openai)]
    fake_openai.requests.clear()
    (again,), _, _, _ = run(fake_openai, tmp_path / "again", "--reverse", "--no-complexity")
    assert again == problem
    assert [(r.body["seed"], r.body["messages"]) for r in _chats(fake_openai)] == first


def test_agreement_drops_the_tests_a_buggy_reference_gets_wrong(fake_openai, tmp_path):
    buggy = {**PROBLEM, "reference_solution": SQUARES.replace("    return s", "    return s if s != 0 else -1")}
    right = "```python\n" + SQUARES + "```"
    fake_openai.handler = by_prompt({EVOLVE: Say(json.dumps(buggy)), SOLVE: Say(right)})
    (problem,), _, _, _ = run(fake_openai, tmp_path, "--agreement", "2", "--no-complexity", "--max-mutants", "0")
    assert problem["tests"] and all(json.loads(t["expected"]) != -1 for t in problem["tests"])
