"""`synth generate deepsearch --teacher none` through the real CLI on real FOLDOC entries."""

from __future__ import annotations

import json

import pytest
from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch.verbalize import strip_placeholders

from synth.dataset import read_records
from tests.core.helpers import synth

ARGS = ("--num", "10", "--seed", "7", "--json")


def generate(corpus, out, *extra, hash_seed="1"):
    res = synth("generate", "deepsearch", "--corpus", str(corpus), "--out", str(out), *ARGS, *extra,
                env={"PYTHONHASHSEED": hash_seed})
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def run(foldoc_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "out"
    return out, generate(foldoc_corpus, out)


def test_tasks_are_grounded_valid_and_leak_free(run, foldoc_corpus):
    from synth.env.corpus import Corpus

    out, summary = run
    corpus = Corpus(foldoc_corpus)
    tasks = list(read_records([out]))
    assert summary["counts"]["output"] == len(tasks) >= 8
    assert synth("validate", str(out)).returncode == 0
    for task in tasks:
        for fact in task["facts"]:  # every quote verbatim at its span, in its own document
            assert corpus.get(fact["doc_id"]).text[fact["start"]:fact["end"]] == fact["quote"]
        question = strip_placeholders(task["question"])
        assert not any(tx.mentions(question, n) for n in [task["answer"], *task.get("aliases", [])])
        hidden = [v["doc_id"] for v in task["formal"]["variables"] if v["role"] == "intermediate"]
        assert not any(tx.mentions(question, corpus.get(h).title) for h in hidden)
        v = task["verification"]
        assert [v[c]["status"] for c in ("support", "no_leak", "uniqueness", "shortcut")] == ["passed"] * 4
        assert v["closed_book"]["status"] == v["tool_solver"]["status"] == "not_run"  # never faked
        assert task["tier"] == "unverified" and task.get("pass_rate") is None
        assert v["uniqueness"]["certificate"]["survivors"] == [task["answer_doc_id"]]
        assert task["depth"] >= 2 and task["hops"] >= task["depth"]
        assert task["provenance"]["mode"] == "template" and task["corpus_hash"] == corpus.version
    stats = json.loads((out / "manifest.json").read_text())["stats"]
    assert sum(stats["hops"].values()) == len(tasks) and set(stats["tier"]) == {"unverified"}
    for key in ("topology", "depth", "rejects_by_reason", "failed_candidates_by_reason", "seed_plan"):
        assert key in stats


def test_same_seed_same_bytes_under_any_hash_seed_and_worker_count(run, foldoc_corpus, tmp_path):
    out, _ = run
    again = generate(foldoc_corpus, tmp_path / "again", hash_seed="2")
    assert again["counts"] == run[1]["counts"]
    first = sorted(p.name for p in (out / "data").iterdir())
    assert first == sorted(p.name for p in (tmp_path / "again" / "data").iterdir())
    for name in first:
        assert (out / "data" / name).read_bytes() == (tmp_path / "again" / "data" / name).read_bytes()
    generate(foldoc_corpus, tmp_path / "two", "--workers", "2")
    assert list(read_records([tmp_path / "two"])) == list(read_records([out]))


def test_rerun_resumes_and_a_changed_config_is_refused(run, foldoc_corpus):
    out, summary = run
    before = (out / "manifest.json").read_text()
    assert generate(foldoc_corpus, out)["counts"] == summary["counts"]
    assert json.loads((out / "manifest.json").read_text())["output_hash"] == json.loads(before)["output_hash"]
    res = synth("generate", "deepsearch", "--corpus", str(foldoc_corpus), "--out", str(out), "--num", "10",
                "--seed", "8")
    assert res.returncode == 2 and "--seed 7 -> 8" in res.stderr


@pytest.mark.parametrize("flags, message", [
    (("--hops", "4-2"), "--hops"),
    (("--since", "last week"), "--since"),
    (("--target-band", "0.9:0.1"), "--target-band"),
    (("--since", "2099-01-01"), "no entry qualifies"),
])
def test_bad_flags_fail_with_one_line(foldoc_corpus, tmp_path, flags, message):
    res = synth("generate", "deepsearch", "--corpus", str(foldoc_corpus), "--out", str(tmp_path / "o"), *flags)
    assert res.returncode == 2 and message in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_a_folder_that_is_not_a_corpus_is_refused(tmp_path):
    res = synth("generate", "deepsearch", "--corpus", str(tmp_path), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "not a corpus" in res.stderr


@pytest.mark.slow
def test_the_ray_executor_gives_the_same_tasks(run, foldoc_corpus, tmp_path, ray_cluster):
    out, _ = run
    generate(foldoc_corpus, tmp_path / "ray", "--executor", "ray", "--ray-address", ray_cluster, "--workers", "2")
    assert list(read_records([tmp_path / "ray"])) == list(read_records([out]))
    assert json.loads((tmp_path / "ray" / "manifest.json").read_text())["executor"]["type"] == "ray"
