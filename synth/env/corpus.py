"""`Corpus`: the runtime view of a CORPUS directory (documents, titles, link graph, search).

Documents are read from an uncompressed, memory-mapped Arrow IPC file, so opening a corpus costs the
id map and a look at any document costs O(log batches) whatever the corpus size. Indexes load lazily
on first use (the dense one loads MiniLM, about a second).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from synth.env.layout import LAYOUT_VERSION, CorpusPaths
from synth.errors import UserError

MODES = ("bm25", "dense", "hybrid")
RRF_K = 60  # the constant of Cormack et al. (2009); rank r contributes 1 / (RRF_K + r)


@dataclass(frozen=True)
class Doc:
    row: int
    id: str
    title: str
    text: str
    updated_at: str | None  # 'YYYY-MM-DDTHH:MM:SSZ'
    categories: list[str]
    redirect_to: str | None

    @property
    def is_redirect(self) -> bool:
        return self.redirect_to is not None


@dataclass(frozen=True)
class Hit:
    row: int
    id: str
    title: str
    score: float
    rank: int


class Corpus:
    def __init__(self, root: str | Path):
        import pyarrow as pa

        self.paths = CorpusPaths(Path(root))
        if not self.paths.card.is_file():
            raise UserError(f"{root}: not a corpus (no corpus.json); build one with `synth corpus build`")
        self.card = json.loads(self.paths.card.read_text(encoding="utf-8"))
        if self.card.get("layout_version") != LAYOUT_VERSION:
            raise UserError(f"{root}: corpus layout {self.card.get('layout_version')} != {LAYOUT_VERSION}; rebuild it")
        reader = pa.ipc.open_file(pa.memory_map(str(self.paths.docs_arrow), "r"))
        self._batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
        self._starts = list(np.cumsum([0] + [b.num_rows for b in self._batches[:-1]]))
        self._ids = {doc_id: row for row, doc_id in enumerate(self._column("id"))}

    # ---- identity -------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Content + index hash; tool results are cached under it."""
        return self.card["version"]

    def __len__(self) -> int:
        return len(self._ids)

    def _column(self, name: str) -> Iterator:
        for batch in self._batches:
            yield from batch.column(name).to_pylist()

    # ---- documents ------------------------------------------------------------------------------
    def doc(self, row: int) -> Doc:
        b = bisect.bisect_right(self._starts, row) - 1
        batch, i = self._batches[b], row - self._starts[b]
        get = lambda name: batch.column(name)[i].as_py()
        return Doc(row, get("id"), get("title"), get("text"), get("updated_at"), get("categories") or [],
                   get("redirect_to"))

    def get(self, doc_id: str) -> Doc | None:
        row = self._ids.get(doc_id)
        return None if row is None else self.doc(row)

    def article(self, doc_id: str) -> Doc | None:
        """The document, or the article a redirect points to."""
        doc = self.get(doc_id)
        return self.get(doc.redirect_to) if doc is not None and doc.is_redirect else doc

    @cached_property
    def titles(self):
        import pyarrow.parquet as pq

        from synth.env.titles import TitleIndex

        index = TitleIndex()
        table = pq.read_table(self.paths.titles)
        for title, doc_id, article in zip(*(table.column(c).to_pylist() for c in ("title", "id", "article"))):
            index.add(title, doc_id, redirect=doc_id != article)
            if doc_id != article:
                index.set_redirect(doc_id, article)
        return index

    def by_title(self, title: str) -> Doc | None:
        """The article a title names (exact, then case-insensitive, then singular; redirects followed)."""
        found = self.titles.resolve(title)
        return self.get(found) if found is not None else None

    def lookup(self, ref: str) -> Doc | None:
        """An id or a title -> article (what tools accept from agents)."""
        return self.article(ref) or self.by_title(ref)

    def iter_docs(self, *, articles_only: bool = True) -> Iterator[Doc]:
        for row in range(len(self)):
            doc = self.doc(row)
            if not (articles_only and doc.is_redirect):
                yield doc

    # ---- graph ----------------------------------------------------------------------------------
    @cached_property
    def graph(self):
        from synth.env.graph import LinkGraph

        return LinkGraph(self.paths.links, len(self))

    def out_neighbors(self, doc_id: str) -> list[str]:
        row = self._ids[doc_id]
        return [self.doc(r).id for r in self.graph.out_neighbors(row)]

    def in_neighbors(self, doc_id: str) -> list[str]:
        row = self._ids[doc_id]
        return [self.doc(r).id for r in self.graph.in_neighbors(row)]

    def row_of(self, doc_id: str) -> int | None:
        return self._ids.get(doc_id)

    # ---- search ---------------------------------------------------------------------------------
    @cached_property
    def _articles(self) -> np.ndarray:
        return np.load(self.paths.root / "index" / "articles.npy")

    @cached_property
    def bm25(self):
        from synth.env.bm25 import BM25Index

        if not self.card["indexes"].get("bm25"):
            raise UserError(f"{self.paths.root}: built without a BM25 index")
        return BM25Index(self.paths.bm25)

    @cached_property
    def dense(self):
        from synth.env.dense import DenseIndex

        if not self.card["indexes"].get("dense"):
            raise UserError(f"{self.paths.root}: built without a dense index (--no-dense)")
        return DenseIndex(self.paths.dense, self.card["indexes"]["dense"])

    def passages(self, doc: Doc) -> list[tuple[int, int]]:
        """Sentence passages of a document, cut exactly as the dense index cut them."""
        from synth.env.chunks import sentences

        cfg = self.card["indexes"].get("dense", {}).get("config", {})
        return sentences(doc.text, cfg.get("min_chars", 60), cfg.get("max_chars", 300))

    def rank_passages(self, doc: Doc, goal: str) -> tuple[list[tuple[int, int]], np.ndarray]:
        """The document's sentence passages (spans) and their cosine to `goal`. Vectors stored by the
        dense index are reused, so usually only the goal is encoded."""
        from synth.env.dense import encode

        spans = self.passages(doc)
        stored = self._stored_vectors(doc.row, len(spans))
        texts = [f"{doc.title}: {doc.text[s:e]}" for s, e in spans[len(stored):]]
        fresh = encode([goal] + texts)
        vectors = np.vstack([stored, fresh[1:]]) if len(stored) else fresh[1:]
        return spans, vectors @ fresh[0]

    def _stored_vectors(self, row: int, limit: int) -> np.ndarray:
        if not self.card["indexes"].get("dense") or not self._articles.size:
            return np.zeros((0, 384), dtype=np.float32)
        position = int(np.searchsorted(self._articles, row))
        if position >= len(self._articles) or self._articles[position] != row:
            return np.zeros((0, 384), dtype=np.float32)
        return self.dense.passage_vectors(position)[:limit]

    def search(self, query: str, k: int = 10, mode: str = "hybrid") -> list[Hit]:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if mode == "hybrid":
            depth = max(50, 2 * k)
            ranked = rrf([self.bm25.search(query, depth), self.dense.search(query, depth)])[:k]
        else:
            ranked = (self.bm25 if mode == "bm25" else self.dense).search(query, k)
        hits = []
        for rank, (position, score) in enumerate(ranked, start=1):
            doc = self.doc(int(self._articles[position]))
            hits.append(Hit(doc.row, doc.id, doc.title, round(float(score), 6), rank))
        return hits


def rrf(rankings: list[list[tuple[int, float]]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion; ties broken by position so the order is deterministic."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (item, _) in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
