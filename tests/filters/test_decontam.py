"""`--decontam`: records overlapping a benchmark list are removed, naming the benchmark item matched.

Runs on the real benchmark lists in tests/data/shared/benchmarks/, the encrypted ones included. Plain text of
encrypted benchmarks exists only in this process's memory: their test feeds documents to the step directly,
so no input file, output shard or reject holds it.
"""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest
from synth.filters import benchmarks
from synth.filters.decontam import DecontamStep

from synth import records
from tests.filters.helpers import kept_ids, rejects, run, write_jsonl

PLAIN = ["frames_simpledeepsearcher.jsonl", "musique_simpledeepsearcher.jsonl", "2wiki_simpledeepsearcher.jsonl",
         "bamboogle_simpledeepsearcher.jsonl", "mbpp_sanitized_test.jsonl"]
ENCRYPTED = ["browsecomp_en_sample200.encrypted.jsonl", "browsecomp_zh.encrypted.jsonl",
             "xbench_deepsearch_2505.encrypted.csv", "xbench_deepsearch_2510.encrypted.csv"]
CLEAN = ["What is the capital of Australia and when was it founded?", "Explain how a hash table handles collisions.",
         "Which planet in the solar system has the most moons as of today?"]


@pytest.fixture(scope="module")
def bench(shared_data):
    return shared_data / "benchmarks"


def _plain_item(path, row: int) -> tuple[str, str]:
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[row])
    ident = record.get("id", record.get("task_id"))
    return f"{path.name}#{ident}", record.get("question") or record["prompt"]


def test_cli_removes_records_overlapping_real_benchmarks_and_names_the_item(bench, tmp_path):
    planted, expected = [], {}
    for n, name in enumerate(PLAIN):
        label, question = _plain_item(bench / name, 7)
        planted.append({"id": f"p{n}", "question": f"Quick quiz for you: {question} Think step by step."})
        expected[f"p{n}"] = label
    clean = [{"id": f"c{n}", "question": q} for n, q in enumerate(CLEAN)]
    src = write_jsonl(tmp_path / "in.jsonl", planted + clean)
    out = tmp_path / "out"
    files = ",".join(str(bench / n) for n in PLAIN + ENCRYPTED)  # every real list, encrypted ones included
    summary = run("filter", str(src), "--out", str(out), "--decontam", files, "--no-decontam-embedding",
                  "--filters", "none")
    dropped = rejects(out)
    assert kept_ids(out) == ["c0", "c1", "c2"]
    for rid, label in expected.items():
        assert dropped[rid]["reason"] == "contaminated_ngram"
        assert dropped[rid]["detail"].endswith(f"overlap with {label}"), dropped[rid]["detail"]
    assert summary["counts"]["rejected_by_reason"] == {"contaminated_ngram": len(PLAIN)}
    # Nothing the run wrote (data, rejects, manifest, logs, stage files) holds decrypted benchmark text.
    secrets = [i.text[:40] for name in ENCRYPTED for i in benchmarks.load([bench / name])]
    for path in [p for p in out.rglob("*") if p.is_file()]:
        body = path.read_bytes().decode("utf-8", "replace")
        if path.suffix == ".parquet":  # compressed: look at the decoded rows
            body = json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str)
        assert not any(s in body for s in secrets), f"plain benchmark text in {path}"


def test_embedding_similarity_catches_a_paraphrase(bench, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "para", "question": "In the year Citibank was founded, who was the US president?"},
        {"id": "other", "question": "Who was the president of France when the Eiffel Tower opened?"},
    ])
    out = tmp_path / "out"
    run("filter", str(src), "--out", str(out), "--decontam", str(bench / "bamboogle_simpledeepsearcher.jsonl"))
    dropped = rejects(out)
    assert kept_ids(out) == ["other"]
    assert dropped["para"]["reason"] == "contaminated_embedding"
    assert dropped["para"]["detail"].startswith("cosine 0.9")
    assert dropped["para"]["detail"].endswith("with bamboogle_simpledeepsearcher.jsonl#bamboogle_1")


@pytest.mark.parametrize("name", ENCRYPTED)
def test_encrypted_benchmarks_decrypt_in_memory_and_match(bench, name):
    items = benchmarks.load([bench / name])
    assert len(items) >= 100 and all(i.text.strip() for i in items)
    picks = items[::max(1, len(items) // 5)][:5]
    docs = [records.to_document({"id": f"x{n}", "question": f"Please solve: {item.text}"}, key=str(n), chunk=0)
            for n, item in enumerate(picks)]
    docs.append(records.to_document({"id": "clean", "question": CLEAN[0]}, key="99", chunk=0))
    step = DecontamStep([str(bench / name)], "generic", embedding=False)
    result = list(step.run(iter(docs)))
    verdicts = [records.reject_of(d) for d in result]
    assert [v and v["detail"].split(" with ")[-1] for v in verdicts[:-1]] == [i.label for i in picks]
    assert verdicts[-1] is None
    assert all(re.fullmatch(r"\d+-word overlap with \S+", v["detail"]) for v in verdicts[:-1])  # no benchmark words


def test_bad_benchmark_file_is_one_line_exit_2(tmp_path):
    from typer.testing import CliRunner

    from synth.cli import app

    bad = tmp_path / "bench.jsonl"
    bad.write_text('{"id": 1, "answer": "x"}\n')
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "question": "q"}])
    result = CliRunner().invoke(app, ["filter", str(src), "--out", str(tmp_path / "out"), "--decontam", str(bad)])
    assert result.exit_code == 2 and f"{bad}:1: no question field" in result.output


def test_sentence_windows_cover_runs_of_one_to_n_sentences():
    from synth.filters.decontam import sentence_windows

    text = "One here. Two there! Three? Four.\nFive"
    windows = sentence_windows(text, 2)
    assert (1, 1, "One here.") in windows and (4, 5, "Four. Five") in windows
    assert len(windows) == 5 + 4
    assert sentence_windows("Just one. And two.", 3) == []  # short records are compared whole


@pytest.mark.slow  # two CLI runs that embed every sentence window
def test_paraphrased_question_inside_a_long_record_is_found_by_its_window(bench, tmp_path):
    """A FRAMES-like paraphrase in the middle of ~150 words: whole-record cosine is far below the threshold;
    the sentence window is caught, and the reject names the item and the window."""
    filler = ("The compiler reads the source file and builds a syntax tree. Each node of the tree is checked "
              "against the type rules of the language. The optimizer then rewrites the tree into a faster but "
              "equivalent form. Register allocation assigns the values to the machine registers. ")
    record = {"id": "long", "text": filler * 2 + "In the year Citibank was founded, who was the US president? "
              + filler * 2}
    src = write_jsonl(tmp_path / "in.jsonl", [record, {"id": "clean", "text": filler * 4}])
    bamboogle = str(bench / "bamboogle_simpledeepsearcher.jsonl")
    out = tmp_path / "out"
    run("filter", str(src), "--out", str(out), "--decontam", bamboogle, "--filters", "none")
    detail = rejects(out)["long"]["detail"]
    assert kept_ids(out) == ["clean"]
    assert re.fullmatch(r"cosine 0\.9\d\d with bamboogle_simpledeepsearcher\.jsonl#bamboogle_1 in "
                        r"sentences? \d+(-\d+)?: \"In the year Citibank was founded, who was .*\"", detail), detail
    whole = tmp_path / "whole"
    run("filter", str(src), "--out", str(whole), "--decontam", bamboogle, "--filters", "none", "--decontam-window", "0")
    assert kept_ids(whole) == ["long", "clean"]  # compared whole, the question drowns in its context
