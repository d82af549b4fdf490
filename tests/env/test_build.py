"""CORPUS build from JSONL/Parquet/HF folders: layout, rejects, determinism, resume, config guard."""

from __future__ import annotations

import json

import polars as pl
import pytest

from synth.env.build import BuildConfig, build_corpus
from synth.env.corpus import Corpus
from synth.errors import ConfigChangedError, InputError
from tests.env.helpers import DOCS, write_jsonl

FAST = BuildConfig(dense=False, show_progress=False)


def test_layout_counts_and_spans(tiny_corpus):
    corpus = Corpus(tiny_corpus)
    card = json.loads((tiny_corpus / "corpus.json").read_text())
    assert card["counts"]["articles"] == len(DOCS) and card["counts"]["redirects"] == 1
    assert card["indexes"]["dense"]["kind"] == "flat" and card["indexes"]["bm25"]["stemmer"] == "english"
    docs = pl.read_parquet(tiny_corpus / "data" / "documents.parquet")
    assert docs.columns == ["id", "title", "text", "updated_at", "categories", "redirect_to"]
    assert docs["id"].to_list()[:3] == ["python", "guido", "abc"]  # input order = row order
    links = pl.read_parquet(tiny_corpus / "graph" / "links.parquet")
    assert len(links) == sum(len(d[3]) for d in DOCS)  # every target exists in DOCS
    degrees = pl.read_parquet(tiny_corpus / "graph" / "degrees.parquet")
    wirth = degrees.filter(pl.col("id") == "wirth").row(0, named=True)
    assert (wirth["out_degree"], wirth["in_degree"]) == (4, 3)
    assert corpus.by_title("python (Programming Language)").id == "python"  # redirect, loose case
    manifest = json.loads((tiny_corpus / "manifest.json").read_text())
    assert manifest["kind"] == "corpus_document" and manifest["counts"]["output"] == len(DOCS) + 1


def test_sources_agree_and_build_is_deterministic(tmp_path, tiny_jsonl):
    import datasets

    rows = [json.loads(line) for line in tiny_jsonl.read_text().splitlines()]
    frame = pl.DataFrame(rows)  # every column in every row (Dataset.from_list infers from row 1 only)
    frame.write_parquet(tmp_path / "tiny.parquet")
    datasets.Dataset.from_dict(frame.to_dict(as_series=False)).save_to_disk(str(tmp_path / "hf"))
    versions = set()
    for name, src in [("a", tiny_jsonl), ("b", tiny_jsonl), ("c", tmp_path / "tiny.parquet"), ("d", tmp_path / "hf")]:
        build_corpus(str(src), tmp_path / name, FAST)
        versions.add(Corpus(tmp_path / name).version)
    assert len(versions) == 1
    a = (tmp_path / "a" / "data" / "documents.parquet").read_bytes()
    assert a == (tmp_path / "b" / "data" / "documents.parquet").read_bytes()


def test_rejects_have_stable_reasons(tmp_path):
    src = write_jsonl(tmp_path / "bad.jsonl", extra=[
        {"id": "python", "title": "Dup", "text": "again"},
        {"id": "e", "title": "Empty", "text": "  "},
        {"id": "t", "title": "Time", "text": "x", "updated_at": "yesterday"},
        {"id": "s", "title": "Span", "text": "abc", "links": [{"target": "Python", "anchor": "zz", "start": 0, "end": 2}]},
        {"id": "r", "title": "Nowhere", "text": "", "redirect": "No Such Page"},
    ])
    summary = build_corpus(str(src), tmp_path / "out", FAST)
    rejects = pl.read_parquet(tmp_path / "out" / "rejects" / "documents.parquet")
    assert sorted(rejects["reason"].to_list()) == ["duplicate_id", "empty_text", "invalid_link_span",
                                                   "invalid_updated_at", "redirect_unresolved"]
    assert summary["rejected"] == 5 and set(rejects["step"]) == {"corpus build"}


def test_bad_input_is_an_input_error(tmp_path):
    src = tmp_path / "x.jsonl"
    src.write_text('{"id": "a", "title": "A"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"x.jsonl:1: field 'text'"):
        build_corpus(str(src), tmp_path / "out", FAST)


def test_resume_skips_finished_stages_and_guards_config(tmp_path, tiny_jsonl):
    out = tmp_path / "out"
    build_corpus(str(tiny_jsonl), out, FAST)
    marker = out / ".synth" / "stages" / "ingest.json"
    stamp = marker.stat().st_mtime_ns
    again = build_corpus(str(tiny_jsonl), out, FAST)
    assert marker.stat().st_mtime_ns == stamp and again["documents"] == len(DOCS) + 1
    with pytest.raises(ConfigChangedError):
        build_corpus(str(tiny_jsonl), out, BuildConfig(bm25=False, dense=False, show_progress=False))
    rebuilt = build_corpus(str(tiny_jsonl), out, BuildConfig(bm25=False, dense=False, show_progress=False), force=True)
    assert rebuilt["indexes"] == {} and not (out / "index" / "bm25").exists()


def test_corpus_is_a_valid_synth_dataset(tiny_corpus):
    from typer.testing import CliRunner

    from synth.cli import app

    result = CliRunner().invoke(app, ["validate", str(tiny_corpus), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["violations"] == 0
