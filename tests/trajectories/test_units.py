"""Answer judge, trajectory filters, context policies, and `synth import --from` on the real trajectory files."""

from __future__ import annotations

import json

import pytest
from synth.pipelines.trajectories import filters, policies
from synth.pipelines.trajectories.filters import FilterConfig, check, select_best
from synth.pipelines.trajectories.harness import call_regex
from synth.pipelines.trajectories.judge import match, normalize

from synth.dataset import read_records
from tests.core.helpers import synth
from tests.trajectories.fixtures import manifest


def call(i: int, name: str = "search", **args) -> dict:
    return {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args or {"query": f"q{i}"})}}


def traj(*steps, answer="Python", correct=True) -> dict:
    """steps: (call, result text) pairs, one assistant turn each."""
    messages = [{"role": "user", "content": "Which language?"}]
    for c, result in steps:
        messages += [{"role": "assistant", "tool_calls": [c]},
                     {"role": "tool", "tool_call_id": c["id"], "name": c["function"]["name"], "content": result}]
    messages.append({"role": "assistant", "content": f"<answer>{answer}</answer>"})
    return {"id": "x", "messages": messages, "predicted_answer": answer, "judgement": {"correct": correct}}


OK = json.dumps({"results": [{"doc_id": "python"}]})
ERR = json.dumps({"error": "doc_not_found", "message": "no document"})


def test_answer_judge_rule():
    assert normalize("  The Épée-Language!  ") == "epee language"
    assert match("the python", "Python").correct and match("PYTHON.", "Python").method == "exact"
    assert match("CPython", "Python", ["CPython"]).method == "alias"
    assert match("Python, Perl or Ruby", "Python").correct is False  # a hedge is not an answer
    assert match(None, "Python").correct is False and match("x", None).correct is None


def test_filters_each_reason():
    cfg = FilterConfig(min_tool_calls=1, max_identical_calls=2, token_budget=10_000)
    assert check(traj((call(0), OK)), cfg) is None
    assert check(traj((call(0), OK), correct=False), cfg).reason == "wrong_answer"
    assert check(traj(), cfg).reason == "too_few_tool_calls"
    assert check(traj((call(0), OK), (call(1, query="q0"), OK)), cfg).reason == "repeated_call"  # back to back
    spaced = traj((call(0), OK), (call(1, query="z"), OK), (call(2, query="q0"), OK), (call(3, query="y"), OK),
                  (call(4, query="q0"), OK))
    assert check(spaced, cfg).reason == "repeated_call" and check(spaced, FilterConfig(max_identical_calls=3)) is None
    assert check(traj((call(0, "open", doc_id="x"), ERR)), cfg).reason == "unrecovered_tool_error"
    assert check(traj((call(0, "open", doc_id="x"), ERR), (call(1, "open", doc_id="python"), OK)), cfg) is None
    assert check(traj((call(0), "x " * 20_000)), cfg).reason == "over_token_budget"
    broken = traj((call(0), OK))
    broken["messages"].insert(2, {"role": "tool", "tool_call_id": "zz", "content": "?"})
    broken["messages"][1]["tool_calls"][0]["function"]["arguments"] = "{not json"
    assert check(broken, cfg).reason == "invalid_format"
    unfinished = traj((call(0), OK))
    unfinished["messages"].pop()
    assert "answer turn" in filters.format_problem(unfinished["messages"])


def test_best_of_k_prefers_fewer_calls():
    long = traj((call(0), OK), (call(1, query="b"), OK))
    short = traj((call(0, query="c"), OK))
    assert select_best([long, short]) is short and select_best([]) is None


def test_context_policies():
    record = traj((call(0), "R0"), (call(1, query="a"), "R1"), (call(2, query="b"), "R2"), (call(3, query="c"), "R3"))
    kept = policies.view(record["messages"], policies.parse_policy("keep_last_k:2"))
    assert [m["content"] for m in kept if m["role"] == "tool"] == [policies.PLACEHOLDER] * 2 + ["R2", "R3"]
    summary = policies.view(record["messages"], policies.parse_policy("summary:2"))
    assert policies.SUMMARY_HEADER in summary[0]["content"] and "q0" in summary[0]["content"]
    assert [m["content"] for m in summary if m["role"] == "tool"] == ["R2", "R3"]
    assert policies.view(record["messages"], policies.parse_policy("full")) == record["messages"]
    with pytest.raises(ValueError):
        policies.parse_policy("keep_last_k")
    assert policies.parse_policy("summary").name == "summary:5"


def test_call_regex_covers_the_tools():
    import re

    specs = [{"type": "function", "function": {"name": "search", "parameters": {
        "type": "object", "properties": {"query": {"type": "string"}, "k": {"type": "integer"}}, "required": ["query"]}}}]
    pattern = re.compile(call_regex(specs, "hermes"))
    assert pattern.fullmatch('<tool_call>\n{"name": "search", "arguments": {"query": "guido van rossum"}}\n</tool_call>')
    assert pattern.fullmatch("<answer>Python</answer>") and not pattern.fullmatch("hello")
    assert re.compile(call_regex(specs, "mcp_xml")).fullmatch(
        "<use_mcp_tool>\n<server_name>synth</server_name>\n<tool_name>search</tool_name>\n<arguments>\n"
        '{"query": "x"}\n</arguments>\n</use_mcp_tool>')


def test_import_every_real_trajectory_file(shared_data, tmp_path):
    folder = shared_data / "trajectories"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"messages": [{"role": "robot", "content": "?"}]}) + "\n" +
                   json.dumps({"no": "messages"}) + "\n")
    out = tmp_path / "imported"
    res = synth("import", *[str(p) for p in sorted(folder.iterdir()) if p.suffix != ".md"], str(bad),
                "--kind", "trajectory", "--from", "auto", "--out", str(out), "--json")
    assert res.returncode == 0, res.stderr
    counts = manifest(out)["counts"]
    assert counts["output"] == 150 + 2 + 1 + 100 + 2 and counts["rejected_by_reason"] == {
        "unknown_role": 1, "not_a_trajectory": 1}
    by_format: dict[str, int] = {}
    for record in read_records([out]):
        by_format[record["source_format"]] = by_format.get(record["source_format"], 0) + 1
        assert record["provenance"]["mode"] == "imported" and record["id"]
    assert by_format == {"hermes": 150, "mcp_xml": 2, "openai": 101, "search_r1": 2}
    wrong = synth("import", str(folder / "search_r1_case.txt"), "--kind", "generic", "--from", "auto",
                  "--out", str(tmp_path / "x"))
    assert wrong.returncode == 2 and "--kind trajectory" in wrong.stderr


def test_answer_judge_leading_spans_emphasis_and_numbers():
    assert match("Yes, Ketevan Arakhamia-Grant took part.", "Yes").method == "leading_span"
    assert match("No, it is not.", "Yes").correct is False
    assert match("Python, Perl or Ruby", "Python").correct is False      # still a hedge
    assert match("The word is **troll**.", "Troll (Internet").correct
    assert match("It was the **Space Shuttle Challenger**.", "Challenger").method == "emphasis"
    assert match("In Canadian football each team has 12 players.", "TWELVE").method == "number"
    assert match("He died in **1948**.", "one thousand, nine hundred and forty-eight").correct
    assert match("It rose by **4.6%**.", "5.6%").correct is False
    assert match("The band was first called **Parva**.", "runston parva").correct is False


LEGACY = {"id": "legacy", "messages": [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": None, "function_call": {"name": "python", "arguments": "{\"code\": \"2+2\"}"}},
    {"role": "function", "name": "python", "content": "4"},
    {"role": "assistant", "content": "<answer>4</answer>"}]}


def test_import_legacy_function_calls_and_all_rejected_exits_2(tmp_path):
    from tests.core.helpers import synth, write_jsonl

    out = tmp_path / "legacy"
    res = synth("import", str(write_jsonl(tmp_path / "legacy.jsonl", [LEGACY])), "--kind", "trajectory",
                "--from", "openai", "--out", str(out), "--json")
    assert res.returncode == 0, res.stderr
    (record,) = read_records([out])
    call = record["messages"][1]["tool_calls"][0]["function"]
    assert call == {"name": "python", "arguments": "{\"code\": \"2+2\"}"}
    assert record["messages"][2]["role"] == "tool" and record["messages"][2]["content"] == "4"
    bad = {"id": "bad", "messages": [{"role": "narrator", "content": "x"}]}
    res = synth("import", str(write_jsonl(tmp_path / "bad.jsonl", [bad])), "--kind", "trajectory",
                "--from", "openai", "--out", str(tmp_path / "bad"))
    assert res.returncode == 2 and "every input record was rejected (unknown_role=1)" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def webdancer_judged(shared_data) -> dict:
    """The rule judge on the 150 WebDancer answers against the readings in webdancer_readings.json."""
    from pathlib import Path

    from synth.pipelines.trajectories.importer import convert_record

    readings = json.loads((Path(__file__).parent / "webdancer_readings.json").read_text(encoding="utf-8"))["readings"]
    path = shared_data / "trajectories" / "webdancer_sample_traj.hermes.jsonl"
    counts = {"records": 0, "accepted": 0, "correct_read": 0, "correct_accepted": 0, "wrong_read": 0, "wrong_accepted": 0}
    for line, reading in zip(path.open(encoding="utf-8"), readings, strict=True):
        record = convert_record(json.loads(line), "hermes")
        ok = bool(match(record["predicted_answer"], record["answer"], record.get("aliases"), record.get("question")).correct)
        counts["records"] += 1
        counts["accepted"] += ok
        if reading["reading"] == "correct":
            counts["correct_read"] += 1
            counts["correct_accepted"] += ok
        elif reading["reading"] == "incorrect":
            counts["wrong_read"] += 1
            counts["wrong_accepted"] += ok
    return counts


def test_webdancer_answers_judged_against_a_careful_reading(shared_data):
    counts = webdancer_judged(shared_data)
    assert counts["records"] == 150 and counts["correct_read"] >= 140
    assert counts["correct_accepted"] / counts["correct_read"] >= 0.95, counts   # figure: docs/benchmarks.md (#21)
    assert counts["wrong_accepted"] == 0, counts


def test_provenance_flags_clairvoyant_calls():
    """A query word seen nowhere before, a document no result listed, and a hidden entity named before any tool
    showed it are violations; the same calls after a result showed the words are not."""
    from synth.pipelines.trajectories.provenance import violations

    def turn(i, name, args, result):
        c = {"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        return [{"role": "assistant", "tool_calls": [c]}, {"role": "tool", "tool_call_id": c["id"], "content": json.dumps(result)}]

    question = "Which language did the Dutch programmer create?"
    clairvoyant = [{"role": "user", "content": question},
                   *turn(0, "search", {"query": "Guido van Rossum"}, {"results": [{"doc_id": "Guido"}]}),
                   *turn(1, "open", {"doc_id": "Python"}, {"doc_id": "Python", "text": "..."}),
                   {"role": "assistant", "content": "<answer>Python</answer>"}]
    found = violations({"question": question, "messages": clairvoyant}, hidden=["Guido van Rossum", "Python"])
    assert [(v["turn"], v["reason"]) for v in found] == [(0, "names_hidden_entity"), (1, "unseen_document")]
    honest = [{"role": "user", "content": question},
              *turn(0, "search", {"query": "Dutch programmer language"},
                    {"results": [{"doc_id": "Guido", "snippet": "Guido van Rossum, a Dutch programmer"}]}),
              *turn(1, "open", {"doc_id": "Guido"}, {"doc_id": "Guido", "links": [{"doc_id": "Python"}]}),
              *turn(2, "search", {"query": "Guido van Rossum language"}, {"results": []}),
              *turn(3, "open", {"doc_id": "Python"}, {"doc_id": "Python", "text": "..."})]
    assert violations({"question": question, "messages": honest}, hidden=["Guido van Rossum", "Python"]) == []
