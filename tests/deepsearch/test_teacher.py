"""The LLM paths with exact verdicts from a scripted OpenAI-compatible server (real HTTP, real client).

The mini corpus with `--since 2025-01-01` has exactly one seed (Zorblang, alias ZBL), so the server
knows the right answer and every verdict below is decided by the script.
"""

from __future__ import annotations

import json
import threading

import polars as pl
from synth.pipelines.deepsearch.verbalize import PLACEHOLDER

from synth.dataset import read_records
from tests.core.helpers import synth
from tests.teachers.fake_openai import Say, last_user

CLEAN_PREFIX = "Tell me: "


def rewrite_of(prompt: str) -> str:
    """A faithful rewrite: the template question from the prompt, reworded at the front."""
    template = prompt.split("make it read better):\n", 1)[1].split("\n\nConstraints", 1)[0]
    return CLEAN_PREFIX + template.split(" ", 1)[1]


def handler(*, specific=True, question=None, closed="Python", solver=("ZBL",)):
    """Answers by prompt kind; `solver` lists final answers in order (the last one repeats)."""
    finals, lock = list(solver), threading.Lock()

    def answer(req):
        text = last_user(req)
        if "selecting answer entities" in text:
            return Say(json.dumps({"specific": specific, "reason": "a named language"}))
        if "Rewrite a search puzzle" in text:
            said = question(text) if callable(question) else question
            return Say(json.dumps({"question": said or rewrite_of(text)}))
        if "from memory alone" in text:
            return Say(json.dumps({"answer": closed}))
        if req.messages[-1]["role"] == "user":  # solver, first turn: one search call
            call = {"id": "c1", "type": "function",
                    "function": {"name": "search", "arguments": json.dumps({"query": "functional language"})}}
            return Say("", tool_calls=[call])
        with lock:
            final = finals.pop(0) if len(finals) > 1 else finals[0]
        return Say(f"I checked the entries. <answer>{final}</answer>")
    return answer


def run(server, mini_corpus, out, *extra):
    res = synth("generate", "deepsearch", "--corpus", str(mini_corpus), "--out", str(out), "--num", "1",
                "--since", "2025-01-01", "--shortcut-k", "1", "--attempts", "2", "--rollouts", "2",
                "--closed-book-tries", "2", "--teacher", f"openai:{server.url}", "--model", "fake-model",
                "--json", *extra)
    assert res.returncode == 0, res.stderr
    kept = list(read_records([out]))
    rejects = pl.read_parquet(str(out / "rejects" / "*.parquet")).to_dicts() if (out / "rejects").exists() else []
    return kept, rejects, json.loads((out / "manifest.json").read_text())


def test_easy_task_is_measured_dialed_and_kept(fake_openai, mini_corpus, tmp_path):
    fake_openai.handler = handler()
    (task,), rejects, manifest = run(fake_openai, mini_corpus, tmp_path / "out", "--max-rounds", "1")
    assert rejects == [] and task["answer"] == "Zorblang"
    v = task["verification"]
    assert v["closed_book"]["status"] == "passed" and v["closed_book"]["answers"] == ["Python", "Python"]
    assert v["tool_solver"]["correct"] == [True, True] and v["tool_solver"]["tool_calls"] == [1, 1]
    assert task["pass_rate"] == 1.0 and task["tier"] == "easy"  # above the default band 0.2:0.8
    (edit,) = task["edit_history"]  # one dial round: harder, re-verified, re-measured, still solved
    assert edit["edit"] in ("FUZZ", "INJECT", "DEEPEN") and edit["kept"] and edit["pass_rate_after"] == 1.0
    assert task["question"].startswith(CLEAN_PREFIX), [o for o in task["operators"] if "llm" in o["op"]]
    assert any(op["op"] == "llm_verbalize" for op in task["operators"])
    assert task["provenance"]["mode"] == "teacher" and task["provenance"]["teacher"] == "fake-model"
    assert manifest["stats"]["tier"] == {"easy": 1} and manifest["tokens"]["requests"] > 0
    assert synth("validate", str(tmp_path / "out")).returncode == 0


def test_a_question_the_teacher_answers_closed_book_is_rejected(fake_openai, mini_corpus, tmp_path):
    fake_openai.handler = handler(closed="It is ZBL, I think")
    kept, (reject,), manifest = run(fake_openai, mini_corpus, tmp_path / "out")
    assert kept == [] and reject["reason"] == "solved_closed_book"
    assert manifest["stats"]["rejects_by_reason"] == {"solved_closed_book": 1}


def test_a_rewrite_that_drops_a_constraint_is_refused(fake_openai, mini_corpus, tmp_path):
    # fluent and leak-free, but it no longer states the leaf's description: the proof of uniqueness
    # rests on every constraint, so the template question stays
    fake_openai.handler = handler(question="Which language from the late 1980s was devised by a person?")
    (task,), _, _ = run(fake_openai, mini_corpus, tmp_path / "out", "--max-rounds", "0")
    assert task["question"] != "Which language from the late 1980s was devised by a person?"
    rejected = [op for op in task["operators"] if op["op"] == "llm_verbalize_rejected"]
    assert rejected and rejected[0]["target"] == "dropped_constraint" and "missing: d" in rejected[0]["after"]


def test_the_specificity_filter_drops_generic_seeds(fake_openai, mini_corpus, tmp_path):
    fake_openai.handler = handler(specific=False)
    kept, (reject,), _ = run(fake_openai, mini_corpus, tmp_path / "out")
    assert kept == [] and reject["reason"] == "generic_seed" and "a named language" in reject["detail"]
    assert not any("Rewrite a search puzzle" in last_user(r) for r in fake_openai.completions())


def test_leaking_verbalization_is_refused_and_too_hard_edits_are_reverted(fake_openai, mini_corpus, tmp_path):
    # the rewrite names the answer: the template question stays. First measurement: solved (easy), so
    # the dial edits; the edited task is never solved (hard), so round 2 reverts to the first version.
    fake_openai.handler = handler(question=lambda text: rewrite_of(text)[:-1] + ", also called ZBL?",
                                  solver=("Zorblang", "Zorblang", "Grob"))
    (task,), _, _ = run(fake_openai, mini_corpus, tmp_path / "out")
    assert "ZBL" not in task["question"] and not PLACEHOLDER.search(task["question"])
    assert any(op["op"] == "llm_verbalize_rejected" and op["target"] == "answer_leak" for op in task["operators"])
    first, second = task["edit_history"]
    assert first["kept"] and first["pass_rate_before"] == 1.0 and first["pass_rate_after"] == 0.0
    assert second["edit"] == "REVERT" and second["question_after"] == first["question_before"]
    assert task["pass_rate"] == 1.0 and task["tier"] == "easy" and task["question"] == first["question_before"]


def test_tiers_record_their_solver_and_a_weak_solver_cannot_call_a_task_hard(fake_openai, mini_corpus, tmp_path):
    # never solved: tier hard from a declared 135M solver; with --min-solver-params 7B it is withheld
    fake_openai.handler = handler(solver=("Grob",))
    common = ("--max-rounds", "0", "--solver-params", "135M")
    (task,), _, _ = run(fake_openai, mini_corpus, tmp_path / "plain", *common)
    assert task["tier"] == "hard" and task["pass_rate"] == 0.0
    assert task["solver"] == {"model": "fake-model", "parameters": 135_000_000, "rollouts": 2, "max_turns": 12}
    (task,), _, manifest = run(fake_openai, mini_corpus, tmp_path / "gated", *common, "--min-solver-params", "7B")
    assert task["tier"] == "unverified" and task["pass_rate"] == 0.0
    assert task["solver"]["tier_refused"].startswith("hard measured by fake-model (135M) < --min-solver-params 7B")
    assert manifest["stats"]["tier"] == {"unverified": 1}
    assert synth("validate", str(tmp_path / "gated")).returncode == 0


def test_a_bad_solver_size_is_one_line_and_exit_2(mini_corpus, tmp_path):
    res = synth("generate", "deepsearch", "--corpus", str(mini_corpus), "--out", str(tmp_path / "o"), "--num", "1",
                "--min-solver-params", "big")
    assert res.returncode == 2 and "--min-solver-params must be a parameter count" in res.stderr
    assert not (tmp_path / "o").exists()
