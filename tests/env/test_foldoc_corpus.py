"""The embedded default corpus: FOLDOC from the Debian package dict-foldoc (acceptance of issue 4)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from synth.env.build import BuildConfig, build_corpus
from synth.env.corpus import Corpus
from synth.errors import UserError

QUERY = "interpreted language Guido van Rossum"


def _need_foldoc() -> None:
    from synth.env.sources.foldoc import find_foldoc

    try:
        find_foldoc()
    except UserError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def foldoc_lexical(tmp_path_factory):
    """Full FOLDOC without the dense index (~4 s)."""
    _need_foldoc()
    out = tmp_path_factory.mktemp("foldoc") / "c"
    build_corpus("foldoc", out, BuildConfig(dense=False, show_progress=False))
    return out


def test_counts_links_and_spans(foldoc_lexical):
    card = json.loads((foldoc_lexical / "corpus.json").read_text())["counts"]
    assert card["documents"] >= 14_000 and card["articles"] >= 12_000 and card["links"] >= 40_000
    docs = pl.read_parquet(foldoc_lexical / "data" / "documents.parquet").select("id", "text")
    text = dict(zip(docs["id"].to_list(), docs["text"].to_list()))
    links = pl.read_parquet(foldoc_lexical / "graph" / "links.parquet")
    assert all(text[s][a:b] == anchor for s, a, b, anchor in links.select("src", "start", "end", "anchor").iter_rows())
    # FOLDOC has both SHELL (a Datatron language) and shell: a lower-case anchor takes the same-case entry.
    shells = links.filter(pl.col("anchor").is_in(["shell", "shells"]))["dst"].unique().to_list()
    assert shells == ["shell"]


def test_python_entry_and_bm25(foldoc_lexical):
    corpus = Corpus(foldoc_lexical)
    python = corpus.get("Python")
    assert python.updated_at == "2007-02-21T00:00:00Z" and python.categories[:1] == ["language"]
    assert "Guido van Rossum" in python.text and "{" not in python.text
    assert {"ABC", "Modula-3", "Icon"} <= set(corpus.out_neighbors("Python"))
    assert corpus.by_title("VB").id == "Visual BASIC"
    assert corpus.by_title("shells").id == "shell" and corpus.by_title("SHELL").id == "SHELL"
    assert "Python" in [h.id for h in corpus.search(QUERY, 3, "bm25")]


@pytest.mark.slow
@pytest.mark.heavy
def test_full_foldoc_hybrid(tmp_path):
    """The whole build, MiniLM included: 42,517 passages are encoded (minutes on 2 idle cores)."""
    _need_foldoc()
    out = tmp_path / "foldoc"
    summary = build_corpus("foldoc", out, BuildConfig(show_progress=False))
    assert summary["documents"] >= 14_000 and summary["links"] >= 40_000 and summary["indexes"]["dense"] == "flat"
    corpus = Corpus(out)
    for mode in ("bm25", "hybrid"):
        assert "Python" in [h.id for h in corpus.search(QUERY, 3, mode)], mode
