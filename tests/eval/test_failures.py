"""`synth generate deepsearch --from-failures EVAL_DIR`: new tasks seeded from what the evaluated model failed.

A scripted model answers every FOLDOC task right except those with the most hops (it answers those wrongly);
the mined run must start from the failed tasks' entities and weigh that hop count highest.
"""

from __future__ import annotations

import json

import pytest

from synth.dataset import read_manifest, read_records
from tests.core.helpers import synth
from tests.teachers.fake_openai import Say


@pytest.fixture(scope="module")
def foldoc_eval(foldoc_tasks, tmp_path_factory, fake_openai_module):
    corpus, tasks = foldoc_tasks
    records = list(read_records([tasks]))
    worst = max(r["hops"] for r in records)
    answers = {r["question"]: (r["answer"] if r["hops"] < worst else "Nothing at all") for r in records}
    fake_openai_module.handler = lambda req: Say(f"<answer>{answers.get(req.messages[1]['content'], '?')}</answer>")
    out = tmp_path_factory.mktemp("foldoc-eval") / "eval"
    res = synth("eval", "deepsearch", "--teacher", f"openai:{fake_openai_module.url}", "--model", "fake-model",
                "--tasks", str(tasks), "--corpus", str(corpus), "--out", str(out), "--json")
    assert res.returncode == 0, res.stderr
    failed = [r for r in records if r["hops"] == worst]
    return corpus, out, failed, worst


def test_new_tasks_start_from_the_failed_entities(foldoc_eval, tmp_path):
    corpus, evaluated, failed, worst = foldoc_eval
    results = read_manifest(evaluated)["stats"]
    assert results["failures"]["wrong_answer"] == len(failed) and results["by_hops"][str(worst)]["accuracy"] == 0.0
    out = tmp_path / "mined"
    num = min(4, len(failed))
    res = synth("generate", "deepsearch", "--corpus", str(corpus), "--from-failures", str(evaluated), "--num", str(num),
                "--seed", "1", "--out", str(out), "--json")
    assert res.returncode == 0, res.stderr
    mined = read_manifest(out)
    info = mined["stats"]["from_failures"]
    assert info["failed_items"] == len(failed) and info["items"] == results["items"]
    weights = {int(k): v for k, v in info["hop_weights"].items()}
    assert max(weights, key=weights.get) == worst            # the hop count it failed on weighs most
    assert mined["inputs"][0]["path"] == str(evaluated)      # recorded and hashed like any input
    failed_entities = {e for r in failed for e in [r["answer_doc_id"]] + [x for f in r["facts"]
                       for x in (f["subject_id"], f.get("object_id")) if x]}
    new = list(read_records([out]))
    assert new and sum(t["answer_doc_id"] in failed_entities for t in new) >= len(new) / 2
    assert synth("validate", str(out)).returncode == 0


def test_bad_from_failures_is_one_line_and_exit_2(foldoc_eval, foldoc_tasks, tmp_path):
    corpus, _, _, _ = foldoc_eval
    _, tasks = foldoc_tasks
    res = synth("generate", "deepsearch", "--corpus", str(corpus), "--from-failures", str(tasks), "--num", "2",
                "--out", str(tmp_path / "x"))
    assert res.returncode == 2 and "synth eval deepsearch" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_a_model_that_failed_nothing_leaves_nothing_to_mine(foldoc_tasks, fake_openai, tmp_path):
    corpus, tasks = foldoc_tasks
    answers = {r["question"]: r["answer"] for r in read_records([tasks])}
    fake_openai.handler = lambda req: Say(f"<answer>{answers[req.messages[1]['content']]}</answer>")
    out = tmp_path / "eval"
    res = synth("eval", "deepsearch", "--teacher", f"openai:{fake_openai.url}", "--model", "fake-model",
                "--tasks", str(tasks), "--corpus", str(corpus), "--out", str(out), "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["results"]["accuracy"] == 1.0
    mined = synth("generate", "deepsearch", "--corpus", str(corpus), "--from-failures", str(out), "--num", "2",
                  "--out", str(tmp_path / "x"))
    assert mined.returncode == 2 and "nothing to mine" in mined.stderr
