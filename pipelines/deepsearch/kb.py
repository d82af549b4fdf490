"""`KB`: the deep-search pipeline's read-only view of a corpus (synth.env.Corpus) as a knowledge graph.

It adds what question synthesis needs on top of the environment's public API, without changing it:
names of an entity (title, redirect titles, the "(ABBR)" a FOLDOC entry opens with), degrees by row,
cached sentence spans per document, and the link occurrences between two documents. One KB is opened
per worker (in a step's `setup`), never pickled.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path

import numpy as np
from synth.pipelines.deepsearch import text as tx

_LEADING_ABBR = re.compile(r"^\s*(?:\d+\.\s*)?\(([^()]{1,40})\)")
CACHE_ITEMS = 20_000  # per cache: bounded, so a long run over a huge corpus does not grow without limit


class LRU(OrderedDict):
    """A bounded dict (least recently used out first) for per-worker caches of derived values."""

    def __init__(self, maxsize: int = CACHE_ITEMS):
        super().__init__()
        self.maxsize = maxsize

    def get_or(self, key, compute):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = compute()
        if len(self) > self.maxsize:
            self.popitem(last=False)
        return value


class KB:
    def __init__(self, corpus_dir: str | Path):
        from synth.env.corpus import Corpus

        self.corpus = Corpus(corpus_dir)
        self.root = Path(corpus_dir)
        self._redirect_titles = self._load_redirect_titles()
        self.in_degree, self.out_degree = self._load_degrees()
        self._phrases = None
        self.memo: dict[str, LRU] = {}  # per-worker caches of derived values (edges, descriptions, ...)

    # ---- loading --------------------------------------------------------------------------------
    def _load_redirect_titles(self) -> dict[str, list[str]]:
        import pyarrow.parquet as pq

        table = pq.read_table(self.corpus.paths.titles, columns=["title", "id", "article"])
        out: dict[str, list[str]] = {}
        for title, doc_id, article in zip(*(table.column(c).to_pylist() for c in ("title", "id", "article"))):
            if article is not None and doc_id != article:
                out.setdefault(article, []).append(title)
        return out

    def _load_degrees(self) -> tuple[np.ndarray, np.ndarray]:
        import pyarrow.parquet as pq

        table = pq.read_table(self.corpus.paths.degrees, columns=["row", "in_degree", "out_degree"])
        n = len(self.corpus)
        ins, outs = np.zeros(n, np.int32), np.zeros(n, np.int32)
        rows = table.column("row").to_numpy()
        ins[rows] = table.column("in_degree").to_numpy()
        outs[rows] = table.column("out_degree").to_numpy()
        return ins, outs

    # ---- documents ------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self.corpus.version

    def __len__(self) -> int:
        return len(self.corpus)

    def cache(self, name: str) -> LRU:
        if name not in self.memo:
            self.memo[name] = LRU()
        return self.memo[name]

    def doc(self, row: int):
        return self.cache("doc").get_or(row, lambda: self.corpus.doc(row))

    def row(self, doc_id: str) -> int | None:
        return self.corpus.row_of(doc_id)

    def by_id(self, doc_id: str):
        row = self.row(doc_id)
        return None if row is None else self.doc(row)

    def sentences(self, row: int) -> tuple[tuple[int, int], ...]:
        return self.cache("sentences").get_or(row, lambda: tuple(tx.sentence_spans(self.doc(row).text)))

    def names(self, row: int) -> tuple[str, ...]:
        """Every name the entity goes by: title, id, redirect titles, and a leading "(ABBR)" of its text."""
        return self.cache("names").get_or(row, lambda: self._names(row))

    def _names(self, row: int) -> tuple[str, ...]:
        doc = self.doc(row)
        names = [doc.title, doc.id, *self._redirect_titles.get(doc.id, [])]
        m = _LEADING_ABBR.match(doc.text)
        if m and len(m.group(1).split()) <= 3 and not tx.years(m.group(1)):
            names.append(m.group(1).strip())
        # a homonym id "Foo (2)" is not a name anybody writes
        names = [re.sub(r" \(\d+\)$", "", n).strip() for n in names]
        # a name without a letter or digit ("," is a FOLDOC redirect to "comma") matches any text
        return tuple(dict.fromkeys(n for n in names if re.search(r"[A-Za-z0-9]", n)))

    def category_size(self, category: str) -> int:
        """Articles in `category` (what a type constraint alone admits)."""
        return self.cache("category_sizes").get_or("all", self._category_sizes).get(category, 0)

    def _category_sizes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for doc in self.corpus.iter_docs(articles_only=True):
            for cat in doc.categories:
                counts[cat] = counts.get(cat, 0) + 1
        return counts

    # ---- graph ----------------------------------------------------------------------------------
    def links_from(self, row: int):
        """Links out of `row` whose target the disambiguation trusts (links.py); the walk, the facts and
        the solver all see this one graph, so a certificate never rests on a wrong-homonym link."""
        return self.cache("links_from").get_or(row, lambda: self._trusted(self.corpus.graph.links_from(row)))

    def links_to(self, row: int):
        return self.cache("links_to").get_or(row, lambda: self._trusted(self.corpus.graph.links_to(row)))

    def _trusted(self, links) -> list:
        from synth.pipelines.deepsearch.links import trusted

        return [link for link in links if trusted(self, link)]

    # ---- search ---------------------------------------------------------------------------------
    def bm25_rank(self, query: str, doc_id: str, k: int) -> tuple[int | None, list[str]]:
        """(1-based rank of `doc_id` in the BM25 top k for `query`, or None; the top k ids)."""
        hits = self.corpus.search(query, k, "bm25")
        ids = [h.id for h in hits]
        return (ids.index(doc_id) + 1 if doc_id in ids else None), ids

    @property
    def phrases(self):
        if self._phrases is None:
            from synth.pipelines.deepsearch.phrases import PhraseIndex

            self._phrases = PhraseIndex(self)
        return self._phrases
