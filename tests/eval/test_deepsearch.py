"""`synth eval deepsearch` with exact replies from a scripted OpenAI-compatible server (real HTTP, the real
teacher layer, the real harness and search environment): verdicts, counts and per-tier numbers are exact."""

from __future__ import annotations

import json

import pytest

from synth.dataset import read_manifest, read_records
from synth.teachers.session import derive_seed
from tests.core.helpers import synth, write_jsonl
from tests.teachers.fake_openai import Fail, Say

ANSWERS = {"Which language did the Dutch": "python", "Who designed both Pascal": "wirth",
           "Which language family did John": "lisp"}


def task_of(req) -> str:
    question = req.messages[1]["content"] if len(req.messages) > 1 else ""
    return next((name for prefix, name in ANSWERS.items() if question.startswith(prefix)), "?")


def turn_of(req) -> int:
    return sum(1 for m in req.messages if m.get("role") == "assistant")


def call(name: str, args: dict) -> Say:
    return Say(f"<tool_call>\n{json.dumps({'name': name, 'arguments': args})}\n</tool_call>")


def scripted(req):
    """python: one search, then the right answer; wirth: a wrong answer at once; lisp: searches forever."""
    task, turn = task_of(req), turn_of(req)
    if task == "python":
        return call("search", {"query": "Guido van Rossum"}) if turn == 0 else Say("It is <answer>Python</answer>")
    if task == "wirth":
        return Say("<answer>Pascal</answer>")
    return call("search", {"query": f"McCarthy {turn}"})


def run_eval(tiny_eval, fake_openai, out, *extra: str):
    corpus, tasks = tiny_eval
    return synth("eval", "deepsearch", "--teacher", f"openai:{fake_openai.url}", "--model", "fake-model",
                 "--tasks", str(tasks), "--corpus", str(corpus), "--out", str(out), "--max-turns", "3",
                 "--retry-backoff", "0.01", "--json", *extra)


def test_exact_verdicts_counts_and_tiers(tiny_eval, fake_openai, tmp_path):
    fake_openai.handler = scripted
    out = tmp_path / "eval"
    res = run_eval(tiny_eval, fake_openai, out, "--report-to", "tensorboard")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    results = summary["results"]
    assert summary["counts"]["output"] == 3 and summary["counts"]["rejected"] == 0
    assert results["accuracy"] == 0.3333 and results["items"] == 3 and results["samples"] == 3
    assert json.loads((out / "metrics.jsonl").read_text()) == {"step": 0, **results}  # issue 24
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    assert events.Scalars("accuracy")[0].value == pytest.approx(0.3333) and events.Scalars("by_tier/easy/accuracy")[0].value == 1.0
    assert results["failures"] == {"no_answer": 1, "passed": 1, "wrong_answer": 1}
    assert results["stops"] == {"answer": 2, "max_turns": 1}
    assert results["mean_tool_calls"] == 1.3333 and results["mean_turns"] == 2.0   # (1+0+3)/3, (2+1+3)/3
    assert results["by_tier"] == {
        "easy": {"items": 1, "accuracy": 1.0, "mean_tool_calls": 1.0, "mean_turns": 2.0},
        "hard": {"items": 2, "accuracy": 0.0, "mean_tool_calls": 1.5, "mean_turns": 2.0}}
    assert list(results["by_hops"]) == ["2", "3", "4"] and results["by_topology"]["tree"]["accuracy"] == 0.0
    assert read_manifest(out)["stats"] == results

    records = {r["id"]: r for r in read_records([out])}
    python, wirth, lisp = records["t-python"], records["t-wirth"], records["t-lisp"]
    assert (python["passed"], python["score"], python.get("failure")) == (1, 1.0, None)
    (sample,) = python["samples"]
    assert sample["predicted_answer"] == "Python" and sample["judge_method"] == "exact"
    assert [m["role"] for m in sample["messages"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert python["entities"] == ["python", "guido", "cwi"] and python["model"] == "fake-model"
    assert (wirth["failure"], wirth["samples"][0]["predicted_answer"]) == ("wrong_answer", "Pascal")
    assert wirth["entities"] == ["wirth", "oberon", "pascal"]
    assert (lisp["failure"], lisp["samples"][0]["stop"], lisp["samples"][0]["tool_calls"]) == ("no_answer", "max_turns", 3)
    assert synth("validate", str(out)).returncode == 0


def test_samples_give_pass_at_k_and_resume_asks_nothing(tiny_eval, fake_openai, tmp_path):
    """Two samples: the python task's first rollout (r0, recognized by its request seed) answers wrongly at once,
    so that task scores 0.5 and passes at k=2. A re-run of the finished --out asks the server nothing."""
    r0 = derive_seed(0, "t-python", "r0/t0")

    def handler(req):
        if task_of(req) == "python" and req.body.get("seed") == r0:
            return Say("<answer>Perl</answer>")
        return scripted(req)
    fake_openai.handler = handler
    out = tmp_path / "eval"
    res = run_eval(tiny_eval, fake_openai, out, "--samples", "2", "--temperature", "0.7")
    assert res.returncode == 0, res.stderr
    results = json.loads(res.stdout)["results"]
    python = next(r for r in read_records([out]) if r["id"] == "t-python")
    assert python["passed"] == 1 and python["score"] == 0.5 and len(python["samples"]) == 2
    assert results["accuracy"] == round(0.5 / 3, 4) and results["pass_at_k"] == round(1 / 3, 4)
    asked = len(fake_openai.completions())
    again = run_eval(tiny_eval, fake_openai, out, "--samples", "2", "--temperature", "0.7")
    assert again.returncode == 0 and len(fake_openai.completions()) == asked
    assert json.loads(again.stdout)["results"] == results


def test_an_outage_is_a_reject_not_a_wrong_answer(tiny_eval, fake_openai, tmp_path):
    fake_openai.handler = lambda req: Fail(503) if task_of(req) == "lisp" else scripted(req)
    out = tmp_path / "eval"
    res = run_eval(tiny_eval, fake_openai, out, "--retries", "1")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["counts"]["rejected_by_reason"] == {"teacher_server_error": 1}
    assert summary["results"]["items"] == 2 and summary["results"]["accuracy"] == 0.5


def test_bad_input_is_one_line_and_exit_2(tiny_eval, fake_openai, tmp_path):
    corpus, good = tiny_eval
    tasks = write_jsonl(tmp_path / "t.jsonl", [{"id": "a", "question": "q?", "answer": "x"}, {"id": "b", "question": "q?"}])
    res = synth("eval", "deepsearch", "--teacher", f"openai:{fake_openai.url}", "--model", "fake-model",
                "--tasks", str(tasks), "--corpus", str(corpus), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "t.jsonl" in res.stderr and "answer" in res.stderr and "2" in res.stderr
    no_model = synth("eval", "deepsearch", "--tasks", str(good), "--corpus", str(corpus), "--out", str(tmp_path / "o"))
    assert no_model.returncode == 2 and "--model PATH" in no_model.stderr
    not_a_model = synth("eval", "deepsearch", "--model", str(tmp_path), "--tasks", str(good), "--corpus", str(corpus),
                        "--out", str(tmp_path / "o"))
    assert not_a_model.returncode == 2 and "not a model folder" in not_a_model.stderr
    same = synth("eval", "deepsearch", "--teacher", f"openai:{fake_openai.url}", "--model", "fake-model",
                 "--samples", "3", "--tasks", str(good), "--corpus", str(corpus), "--out", str(tmp_path / "o"))
    assert same.returncode == 2 and "--temperature" in same.stderr
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_a_prompt_too_long_for_the_engine_is_the_models_failure(tiny_eval, fake_openai, tmp_path):
    """vLLM answers HTTP 400 when a grown conversation no longer fits: that rollout failed (context_exceeded),
    it is not an outage; any other 400 stays an error sample (here: the whole task, a reject)."""
    too_long = ('{"error": {"message": "This model\'s maximum context length is 4096 tokens. However, you '
                'requested 5000 tokens.", "code": 400}}')

    def handler(req):
        if task_of(req) == "lisp" and turn_of(req) == 2:
            return Fail(400, too_long)
        if task_of(req) == "wirth":
            return Fail(400, '{"error": {"message": "unsupported parameter: frobnicate"}}')
        return scripted(req)
    fake_openai.handler = handler
    out = tmp_path / "eval"
    res = run_eval(tiny_eval, fake_openai, out)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["counts"]["rejected_by_reason"] == {"teacher_bad_request": 1}
    assert summary["results"]["failures"] == {"context_exceeded": 1, "passed": 1}
    lisp = next(r for r in read_records([out]) if r["id"] == "t-lisp")
    assert lisp["samples"][0]["stop"] == "context_exceeded" and not lisp["samples"][0].get("error")
