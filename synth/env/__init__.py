"""The deep-search environment: a local corpus with a link graph, BM25 + dense search and agent tools.

Build one with `synth corpus build SOURCE --out CORPUS` (or `synth.env.build.build_corpus`), open it
with `synth.env.Corpus(CORPUS)`, give agents `synth.env.ToolBox(corpus)` or `synth serve tools`.

CORPUS directory layout (layout_version 1; other code may rely on every name below)
-------------------------------------------------------------------------------------
    manifest.json             Foundation manifest: command "corpus build", kind "corpus_document",
                              config + hash, source hash, counts (rejects by reason), stage timings
    corpus.json               the corpus card: {"layout_version", "version", "source": {spec, hash},
                              "counts": {documents, articles, redirects, links, edges, unresolved_links,
                              self_links, rejected_by_reason, ...}, "indexes": {"bm25": {...}, "dense":
                              {kind: flat|ivf|hnsw, nlist, nprobe, calibrated_recall_at_10, model, ...}}}
                              `version` hashes documents + links + index settings; tool caches key on it
    data/documents.parquet    one row per document, in row order (schemas/corpus_document.schema.json):
        id           str      unique (FOLDOC: the headword; MediaWiki: page id; tabular: the input id)
        title        str
        text         str      exact plain text; every offset in this corpus indexes into it. Empty for
                              redirects. FOLDOC: `{x}` -> `x`, `<category>` tags and the trailing
                              `(YYYY-MM-DD)` removed (see sources/foldoc.py for the exact rules)
        updated_at   str|null 'YYYY-MM-DDTHH:MM:SSZ' (UTC; sorts chronologically as text)
        categories   list[str]
        redirect_to  str|null id of the article a redirect (alias, MediaWiki redirect) leads to
    graph/links.parquet       resolved link occurrences, article -> article (redirects followed, no self
                              links), grouped by src in text order:
        src, dst     str      document ids;   src_row, dst_row  int32  rows of data/documents.parquet
        anchor       str|null the linked text as it appears in src's text
        start, end   int32|null  src.text[start:end] == anchor (null when the source gave no position)
        target       str      the target as written in the source (before resolution)
    graph/unresolved.parquet  links whose target names no document: src, target, anchor, start, end
    graph/degrees.parquet     id, row, out_degree, in_degree (distinct neighbours), out_links, in_links
    graph/*.npy               the same links as memory-mapped CSR (synth/env/csr.py): src_rows, dst_rows
                              (int32 per link id = row of links.parquet); out_ptr/out_ids, in_ptr/in_ids
                              (link ids grouped by source / target row, text order kept)
    graph/link_spans.arrow    anchor, start, end per link id (uncompressed IPC, memory-mapped)
    lookup/docs.arrow         the documents again as an uncompressed Arrow IPC file (memory-mapped by
                              `Corpus` for O(1) access by row; same columns)
    lookup/titles.parquet     title, id, article (the article id after following redirects)
    index/articles.npy        int32: search position -> document row (indexes cover articles only)
    index/bm25/               bm25s index (+ tokenizer vocabulary, synth_params.json)
    index/dense/index.faiss   FAISS index of L2-normalized all-MiniLM-L6-v2 vectors (inner product), one
                              per sentence passage ("title: sentence", chunks.sentences, first 32)
    index/dense/owners.npy    int32: vector label -> search position (an article scores its best passage)
    index/dense/vectors/      the embeddings, float32 .npy shards of 8192 rows (resume, re-indexing)
    rejects/documents.parquet dropped input records (schemas/reject.schema.json; `record` = where/title)
    README.md                 dataset card so `datasets.load_dataset(CORPUS)` finds data/
    .synth/                   build state and stage markers (resume); never read by users

Runtime API (`Corpus`): `get(id)`, `article(id)` (redirects followed), `by_title(title)`,
`lookup(id_or_title)`, `doc(row)`, `row_of(id)`, `out_neighbors(id)`, `in_neighbors(id)`,
`graph.links_from(row)` / `graph.links_to(row)` (anchor + span), `search(query, k, mode)`, `version`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # lazy: importing synth.env must stay light for the CLI
    from synth.env.corpus import Corpus, Doc, Hit
    from synth.env.tools import ToolBox

__all__ = ["Corpus", "Doc", "Hit", "ToolBox", "build_corpus"]


def __getattr__(name: str):
    if name in ("Corpus", "Doc", "Hit"):
        from synth.env import corpus

        return getattr(corpus, name)
    if name == "ToolBox":
        from synth.env.tools import ToolBox

        return ToolBox
    if name == "build_corpus":
        from synth.env.build import build_corpus

        return build_corpus
    raise AttributeError(name)
