"""Planted duplicates of every kind are removed, each with a reason naming the method and the kept twin."""

from __future__ import annotations

import json

import pytest

from tests.filters.helpers import kept_ids, rejects, run, task, trajectory, write_jsonl

LONG = ("The Danube is the second longest river in Europe after the Volga; it rises in the Black Forest of "
        "Germany and flows south east for about 2850 kilometres through ten countries including Austria, "
        "Slovakia, Hungary, Croatia, Serbia, Romania, Bulgaria, Moldova and Ukraine before it drains into "
        "the Black Sea through a wide delta that is a protected wetland of international importance")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dedup")
    records = [
        task(0, "Which river flows through the city of Vienna, the capital of Austria?", passed=2),
        task(1, "which river flows through the city of VIENNA -- the capital of Austria", passed=1),  # exact
        task(2, LONG),
        task(3, LONG + " and the Black Sea itself", passed=0),                                      # minhash
        task(4, "How many legs does a spider have?", passed=2),
        task(5, "How many legs do spiders have?", passed=2),                                        # semantic
        task(6, "Who wrote the novel Pride and Prejudice, published in 1813?"),                     # hard negatives
        task(7, "Who wrote the novel Sense and Sensibility, published in 1811?"),
    ]
    src = write_jsonl(folder / "tasks.jsonl", records)
    out = folder / "out"
    summary = run("filter", str(src), "--kind", "generic", "--out", str(out),
                  "--dedup", "exact,minhash,semantic", "--tasks", "2", "--chunk-size", "3")
    return out, summary


def test_each_method_removes_its_planted_duplicate_and_names_the_kept_twin(planted):
    out, summary = planted
    dropped = rejects(out)
    assert set(dropped) == {"t1", "t3", "t5"}
    assert dropped["t1"]["reason"] == "duplicate_exact" and dropped["t1"]["detail"].startswith("kept t0 ")
    assert dropped["t3"]["reason"] == "duplicate_minhash" and dropped["t3"]["detail"].startswith("kept t2 ")
    assert dropped["t5"]["reason"] == "duplicate_semantic" and dropped["t5"]["detail"].startswith("kept t4 (cosine 0.9")
    assert {dropped[i]["step"] for i in dropped} == {"dedup_exact", "dedup_minhash", "dedup_semantic"}
    assert kept_ids(out) == ["t0", "t2", "t4", "t6", "t7"]
    assert summary["counts"]["rejected_by_reason"] == {"duplicate_exact": 1, "duplicate_minhash": 1,
                                                       "duplicate_semantic": 1}


def test_manifest_reports_counts_by_step_and_method(planted):
    out, _ = planted
    stats = json.loads((out / "manifest.json").read_text())["stats"]
    assert stats["kept"] == 5 and stats["dropped"] == 3
    assert stats["dropped_by_step"]["dedup_semantic"] == {"duplicate_semantic": 1}
    methods = stats["dedup_report"]["methods"]
    assert methods["semantic"]["ann"] == "flat" and methods["minhash"]["removed"] == 1


def test_keep_policy_most_verified_then_longest_then_first(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [
        task("a", "What is the capital city of France?", passed=0),
        task("b", "what is the capital city of france", passed=1),   # more verified beats longer
        task("c", "What is the capital of Spain?", passed=1),
        task("d", "WHAT IS THE CAPITAL OF SPAIN ??", passed=1),       # as verified, longer
        task("e", "Name the largest ocean", passed=1),                # as verified, as long, first
        task("f", "name the largest ocean", passed=1),
    ])
    out = tmp_path / "out"
    run("filter", str(src), "--kind", "generic", "--out", str(out), "--dedup", "exact")
    kept_twin = {i: r["detail"].split()[1] for i, r in rejects(out).items()}
    assert kept_twin == {"ta": "tb", "tc": "td", "tf": "te"}


def test_trajectory_dedup_and_answer_cap(tmp_path):
    q = "Which river flows through Vienna?"
    records = [
        trajectory(0, q, "Danube", "https://en.wikipedia.org/wiki/Danube", thought="Let me search for it."),
        trajectory(1, q, "Danube", "https://en.wikipedia.org/wiki/Danube/", thought="Search first.", correct=None),
        trajectory(2, q, "Danube", "https://en.wikipedia.org/wiki/Vienna"),       # other evidence: kept
        trajectory(3, "What is the capital of France?", "Paris", "https://a.example/paris"),
        trajectory(4, "Which city hosts the Louvre?", "Paris", "https://b.example/louvre"),
        trajectory(5, "Where is the Eiffel Tower?", "Paris", "https://c.example/eiffel"),
    ]
    src = write_jsonl(tmp_path / "traj.jsonl", records)
    out = tmp_path / "out"
    run("filter", str(src), "--kind", "trajectory", "--out", str(out), "--dedup", "exact,trajectory",
        "--max-per-answer", "2")
    dropped = rejects(out)
    assert dropped["traj1"]["reason"] == "duplicate_trajectory" and dropped["traj1"]["detail"].startswith("kept traj0 ")
    capped = [i for i, r in dropped.items() if r["reason"] == "answer_cap"]
    assert len(capped) == 1 and capped[0] in {"traj3", "traj4", "traj5"}
    assert "answer entity already has 2 kept records" in dropped[capped[0]]["detail"]
    assert {"traj0", "traj2"} <= set(kept_ids(out))


def test_same_inputs_same_output(tmp_path, planted):
    out, _ = planted
    again = tmp_path / "again"
    src = next(out.parent.glob("tasks.jsonl"))
    run("filter", str(src), "--kind", "generic", "--out", str(again), "--dedup", "exact,minhash,semantic",
        "--tasks", "2", "--chunk-size", "3")
    assert rejects(again) == rejects(out) and kept_ids(again) == kept_ids(out)
    first = json.loads((out / "manifest.json").read_text())["output_hash"]
    assert json.loads((again / "manifest.json").read_text())["output_hash"] == first


def test_removals_are_kept_per_row_and_a_removed_keeper_is_followed_to_the_survivor():
    import numpy as np
    from synth.filters.dedup.methods import Removals, final_keepers

    rm = Removals(np.ones(5, dtype=bool))
    rm.drop("exact", [1], [0], [2])          # 1 is a copy of 0 ...
    rm.drop("answer_cap", [0], [3], [2])     # ... and 0 is capped later, in favour of 3
    rm.drop("minhash", [4], [-3], [2])       # 4 matches index row 2
    rows = np.flatnonzero(rm.method)
    assert rows.tolist() == [0, 1, 4]
    assert final_keepers(rm, rows).tolist() == [3, 3, -3]
    assert rm.alive.tolist() == [False, False, True, True, False]
    assert (rm.count("exact"), rm.count("minhash"), rm.count("minhash", index_only=True)) == (1, 1, 1)
    assert rm.score is None  # only semantic removals carry a cosine
