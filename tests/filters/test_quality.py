"""Quality filters: each planted defect is dropped with its stable reason; clean records pass."""

from __future__ import annotations

import json

import pytest
from synth.filters import quality, registry

from synth.errors import UserError
from tests.filters.helpers import call, kept_ids, rejects, run, trajectory, write_jsonl


def _good(i=0):
    return trajectory(i, "Which river flows through Vienna?", "Danube", "https://en.wikipedia.org/wiki/Danube")


def test_clean_trajectory_passes_every_filter():
    record = _good()
    for name in registry.names_for("trajectory"):
        step = registry.build([name], "trajectory")[0]
        step.setup(0, 1)
        assert step.check(record) is None, name


@pytest.mark.parametrize("mutate, name, reason, where", [
    (lambda r: r["messages"][1]["tool_calls"][0]["function"].update(arguments="{not json"), "tool_calls",
     "malformed_tool_call", "messages[1].tool_calls[0].function.arguments"),
    (lambda r: r["messages"][3]["tool_calls"][0]["function"].update(name="browse"), "tool_calls",
     "malformed_tool_call", "'browse' is not a declared tool"),
    (lambda r: r["messages"][2].update(tool_call_id="zzz"), "tool_calls", "malformed_tool_call", "answers no call"),
    (lambda r: r["messages"][5].update(content="<think>hmm</think>  "), "answer", "empty_answer", "blank"),
    (lambda r: r["messages"].pop(), "answer", "missing_final_answer", "ends with a tool turn"),
    (lambda r: r["messages"][5].update(content="I'm sorry, but I can't help with that."), "refusal", "refusal", "final answer"),
    (lambda r: r["messages"][5].update(content="\n".join(["The answer is Danube."] * 12)), "repetition", "repetitive",
     "repeated lines"),
    (lambda r: r["messages"][5].update(content=" ".join(["the river keeps flowing and flowing downstream"] * 20)),
     "repetition", "repetitive", "repeated 10-grams"),
    (lambda r: r["messages"][5].update(content="x " * 300), "token_budget", "too_many_tokens", "> max 200"),
    (lambda r: r.update(judgement={"correct": "yes"}), "schema", "schema_invalid", "judgement.correct"),
])
def test_each_defect_is_rejected_with_its_reason(mutate, name, reason, where):
    record = _good()
    mutate(record)
    step = registry.build([name], "trajectory", max_tokens=200)[0]
    step.setup(0, 1)
    verdict = step.check(record)
    assert verdict is not None and verdict.reason == reason and where in verdict.detail, verdict


def test_a_closing_user_turn_after_the_answer_is_not_a_missing_answer():
    record = _good()
    record["messages"].append({"role": "user", "content": "Thank you! ###STOP###"})
    assert quality.AnswerFilter("trajectory").check(record) is None
    record["messages"][5:6] = []  # the user closes, but after a tool result: the agent never answered
    assert quality.AnswerFilter("trajectory").check(record).reason == "missing_final_answer"


def test_repeated_identical_tool_calls_are_a_loop():
    record = _good()
    loop = [{"role": "assistant", "content": None, "tool_calls": [call(f"l{n}", "search", query="same")]} for n in range(7)]
    record["messages"][1:1] = loop
    verdict = quality.RepetitionFilter("trajectory").check(record)
    assert verdict.reason == "repetitive" and "repeated 7 times" in verdict.detail


def test_other_kinds():
    pair = {"id": "p", "prompt": [{"role": "user", "content": "hi"}], "chosen": [{"role": "assistant", "content": "Hello!"}],
            "rejected": [{"role": "assistant", "content": "hello"}]}
    assert quality.AnswerFilter("preference_pair").check(pair).reason == "identical_pair"
    pair["chosen"][0]["content"] = "As an AI language model, I cannot greet."
    assert quality.RefusalFilter("preference_pair").check(pair).reason == "refusal"
    problem = {"id": "c", "style": "function", "prompt": "Add two numbers.", "reference_solution": "", "tests": []}
    assert quality.AnswerFilter("code_problem").check(problem).reason == "empty_solution"
    assert quality.AnswerFilter("generic").check({"question": "q", "answer": " "}).reason == "empty_answer"


def test_registry_selection_errors_are_user_errors():
    assert registry.resolve("all", "code_problem") == ["schema", "answer", "refusal", "repetition", "token_budget"]
    assert registry.resolve("none", "trajectory") == []
    with pytest.raises(UserError, match="unknown filter"):
        registry.resolve("schema,bogus", "trajectory")
    with pytest.raises(UserError, match="does not apply|do\\(es\\) not apply"):
        registry.resolve("tool_calls", "code_problem")
    defaults = registry.resolve("all", "trajectory")
    assert "verified" not in defaults and registry.resolve("all,verified", "trajectory") == [*defaults, "verified"]
    with pytest.raises(UserError, match="not apply"):
        registry.resolve("all,verified", "code_problem")


def test_opt_in_trajectory_checks_reuse_the_trajectory_pipelines_verdicts():
    record = _good()
    assert quality.VerifiedFilter("trajectory").check(record) is None
    record.update(predicted_answer="Rhine", judgement={"correct": False, "method": "exact", "reason": "said Rhine"})
    assert quality.VerifiedFilter("trajectory").check(record).reason == "wrong_answer"
    record = _good()
    record["messages"][4]["content"] = "Error: HTTP 503 while fetching the page"
    verdict = quality.ToolErrorFilter("trajectory").check(record)
    assert verdict is not None and verdict.reason == "unrecovered_tool_error" and "visit" in verdict.detail


def test_cli_filters_from_config_file(tmp_path):
    good, bad = _good(0), _good(1)
    bad["messages"][5]["content"] = "I cannot help with that request."
    src = write_jsonl(tmp_path / "in.jsonl", [good, bad])
    config = tmp_path / "filter.toml"
    config.write_text('kind = "trajectory"\nfilters = "refusal,answer"\n')
    out = tmp_path / "out"
    summary = run("filter", str(src), "--out", str(out), "--config", str(config))
    assert kept_ids(out) == ["traj0"] and rejects(out)["traj1"]["step"] == "refusal"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["filters"] == ["refusal", "answer"] and manifest["stats"]["dropped_by_step"] == \
        {"refusal": {"refusal": 1}}
    assert summary["counts"]["output"] == 1


def test_human_output_is_a_table_of_kept_and_dropped_by_step_and_reason(tmp_path):
    from typer.testing import CliRunner

    from synth.cli import app

    good, bad = _good(0), _good(1)
    bad["messages"][5]["content"] = "I'm sorry, but I can't answer that."
    src = write_jsonl(tmp_path / "in.jsonl", [good, bad])
    result = CliRunner().invoke(app, ["filter", str(src), "--out", str(tmp_path / "out"), "--kind", "trajectory"])
    assert result.exit_code == 0, result.output
    table = result.stdout
    assert "kept and dropped" in table and "refusal" in table and "total dropped" in table
