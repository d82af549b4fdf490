"""The statistics match the data they summarise, for every kind, and do not depend on luck."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from synth.report.collect import collect


def metric(report: dict, key: str) -> dict:
    found = [m for m in report["metrics"] if m["key"] == key]
    assert found, f"no metric {key!r} in {[m['key'] for m in report['metrics']]}"
    return found[0]


def kept(records: list[dict]) -> list[dict]:
    return [r for r in records if "_reject" not in r]


def bins(m: dict) -> dict[float, int]:
    return {lo: c for lo, _, c in m["histogram"]["bins"]}


def test_counts_and_rejects_match_the_manifest_and_the_input(datasets, inputs):
    for kind in ("deepsearch_task", "trajectory", "code_problem", "preference_pair"):
        report = collect(datasets[kind])
        expected = Counter(r["_reject"] for r in inputs[kind] if "_reject" in r)
        assert report["kind"] == kind
        assert report["records"] == len(kept(inputs[kind])) == report["manifest"]["counts"]["output"]
        assert report["rejects"]["by_reason"] == dict(sorted(expected.items(), key=lambda kv: (-kv[1], kv[0])))
        assert report["rejects"]["by_reason"] == {k: report["manifest"]["counts"]["rejected_by_reason"][k]
                                                  for k in report["rejects"]["by_reason"]}
        assert report["rejects"]["by_step"] == {"verify": sum(expected.values())}
        assert not report["warnings"]


def test_deepsearch_distributions(datasets, inputs):
    report, truth = collect(datasets["deepsearch_task"]), kept(inputs["deepsearch_task"])
    assert bins(metric(report, "hops")) == dict(Counter(r["hops"] for r in truth))
    assert metric(report, "tier")["counts"] == {t: c for t in ("easy", "rl", "hard", "unverified")
                                                if (c := sum(r["tier"] == t for r in truth))}
    assert metric(report, "topology")["counts"] == dict(sorted(Counter(r["topology"] for r in truth).items(),
                                                              key=lambda kv: ("chain", "tree", "cycle").index(kv[0])))
    verification = metric(report, "verification")
    assert verification["rows"]["support"] == dict(Counter(r["verification"]["support"]["status"] for r in truth))
    assert metric(report, "pass_rate")["mean"] == pytest.approx(sum(r["pass_rate"] for r in truth) / len(truth))
    assert metric(report, "operators")["n"] == sum(len(r["operators"]) for r in truth)


def test_trajectory_distributions(datasets, inputs):
    report, truth = collect(datasets["trajectory"]), kept(inputs["trajectory"])
    calls = [sum(len(m.get("tool_calls") or []) for m in r["messages"]) for r in truth]
    assert metric(report, "tool_calls")["n"] == len(truth)
    assert metric(report, "tool_calls")["mean"] == pytest.approx(sum(calls) / len(calls))
    assert metric(report, "tool_calls")["max"] == max(calls)
    assistant = [m for r in truth for m in r["messages"] if m["role"] == "assistant"]
    assert metric(report, "loss_flags")["counts"] == {"loss=1": sum(m["loss"] == 1 for m in assistant),
                                                      "loss=0": sum(m["loss"] == 0 for m in assistant)}
    assert metric(report, "turn_labels")["counts"] == dict(sorted(
        Counter(m["turn_label"]["label"] for m in assistant).items(), key=lambda kv: (-kv[1], kv[0])))
    assert metric(report, "label_loss")["rows"]["essential"] == {"loss=1": sum(
        m["turn_label"]["label"] == "essential" for m in assistant)}
    assert metric(report, "score.information_gain")["n"] == sum("scores" in m["turn_label"] for m in assistant)
    assert metric(report, "tools")["counts"].keys() == {"search", "visit", "python"}


def test_code_and_preference_distributions(datasets, inputs):
    code, truth = collect(datasets["code_problem"]), kept(inputs["code_problem"])
    classes = Counter(r["complexity"]["class"] or "(unfitted)" for r in truth)
    assert metric(code, "complexity")["counts"] == {k: classes[k] for k in
                                                    ("O(1)", "O(log n)", "O(n)", "O(n log n)", "O(n^2)", "(unfitted)")
                                                    if classes[k]}
    assert bins(metric(code, "tests")) == dict(Counter(len(r["tests"]) for r in truth))
    assert metric(code, "mutation_score")["min"] == min(r["mutation_score"] for r in truth)
    pairs, truth = collect(datasets["preference_pair"]), kept(inputs["preference_pair"])
    assert metric(pairs, "margin")["mean"] == pytest.approx(sum(r["margin"] for r in truth) / len(truth))
    assert metric(pairs, "method")["n"] == len(truth)
    assert metric(pairs, "verdict.swapped")["counts"] == {"false": len(truth), "true": len(truth)}
    assert metric(pairs, "verdict.score")["n"] == 2 * len(truth)


def test_same_seed_same_report_and_samples_are_real_records(datasets, inputs):
    a, b = collect(datasets["trajectory"], seed=5), collect(datasets["trajectory"], seed=5)
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)
    assert [r["id"] for r in a["samples"]] != [r["id"] for r in collect(datasets["trajectory"], seed=6)["samples"]]
    by_id = {r["id"]: r for r in kept(inputs["trajectory"])}
    for record in a["samples"]:  # decoded back to the input record (JSON-text columns are objects again)
        assert record["messages"][-1] == by_id[record["id"]]["messages"][-1]
    assert len(collect(datasets["trajectory"], samples=0)["samples"]) == 0


def test_training_curves_from_train_log(datasets):
    report = collect(datasets["model"])
    training = report["training"]
    assert list(training["curves"])[:4] == ["loss", "eval loss", "tokens_per_s", "mfu"]
    assert training["curves"]["loss"][0][0] == 1 and training["curves"]["loss"][-1][0] == 120
    assert len(training["curves"]["eval loss"]) == 3
    assert training["summary"]["loss"]["last"] == pytest.approx(4.0 / 120 ** 0.35)
    assert training["summary"]["steady_tokens_per_s"] > 900  # warm-up steps excluded
    assert report["rejects"] == {"source": "manifest", "total": 4, "by_reason": {"too_long": 3, "no_loss_tokens": 1},
                                 "by_step": {}, "samples": []}


def test_a_torn_train_log_is_counted_not_fatal(tmp_path):
    from tests.report.report_data import train_run

    report = collect(train_run(tmp_path, steps=10, torn_tail=True))
    assert report["training"]["malformed_lines"] == 1 and report["training"]["summary"]["steps"] == 10
