"""Exact phrase lookup over every article: which documents contain this (normalized) phrase?

The uniqueness check needs the *complete* set of documents matching a description, not a ranked
guess. For corpora up to `EXACT_MAX_CHARS` of text the normalized texts of all articles are held in
one string and scanned with `str.find` (a few milliseconds per phrase on FOLDOC); above that the
candidates come from the BM25 top `FALLBACK_K` and are then checked exactly, and the result says it is
not exhaustive (the certificate records that).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from synth.pipelines.deepsearch import text as tx

EXACT_MAX_CHARS = 400_000_000
FALLBACK_K = 1000
_SEP = "\n\x00\n"


@dataclass(frozen=True)
class PhraseHits:
    rows: tuple[int, ...]   # document rows containing the phrase, in row order
    exhaustive: bool        # False when found through the BM25 fallback
    truncated: bool         # True when more than `limit` documents matched


class PhraseIndex:
    def __init__(self, kb, max_chars: int = EXACT_MAX_CHARS):
        self.kb = kb
        self._text: str | None = None
        self._starts: list[int] = []
        self._rows: list[int] = []
        total, offset = 0, 0
        pieces: list[str] | None = []
        for doc in kb.corpus.iter_docs(articles_only=True):
            total += len(doc.text)
            if total > max_chars:
                pieces = None  # too big to hold: use the BM25 fallback
                break
            piece = tx.normalize(doc.title) + " " + tx.normalize(doc.text)
            self._starts.append(offset)
            self._rows.append(doc.row)
            pieces.append(piece)
            offset += len(piece) + len(_SEP)
        if pieces is not None:
            self._text = _SEP.join(pieces)

    @property
    def exact(self) -> bool:
        return self._text is not None

    def find(self, phrase: str, limit: int = 200) -> PhraseHits:
        needle = tx.normalize(phrase)
        if not needle:
            return PhraseHits((), True, False)
        if self._text is None:
            return self._fallback(needle, limit)
        rows: list[int] = []
        pos = self._text.find(needle)
        while pos != -1:
            i = bisect.bisect_right(self._starts, pos) - 1
            rows.append(self._rows[i])
            if len(rows) > limit:
                return PhraseHits(tuple(rows[:limit]), True, True)
            nxt = self._starts[i + 1] if i + 1 < len(self._starts) else len(self._text)
            pos = self._text.find(needle, nxt)
        return PhraseHits(tuple(rows), True, False)

    def _fallback(self, needle: str, limit: int) -> PhraseHits:
        rows = []
        for hit in self.kb.corpus.search(needle, FALLBACK_K, "bm25"):
            doc = self.kb.doc(hit.row)
            if needle in tx.normalize(doc.title) + " " + tx.normalize(doc.text):
                rows.append(hit.row)
        rows.sort()
        return PhraseHits(tuple(rows[:limit]), False, len(rows) > limit)

    def contains(self, row: int, phrase: str) -> bool:
        doc = self.kb.doc(row)
        return tx.normalize(phrase) in tx.normalize(doc.title) + " " + tx.normalize(doc.text)
