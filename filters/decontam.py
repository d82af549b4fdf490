"""Benchmark decontamination: drop records whose task statement overlaps a benchmark question.

Two tests, both naming the benchmark item matched (`FILE#ID`, never its text):
  * n-gram overlap: any shared word 13-gram (GPT-3's rule; CJK characters count as words). A benchmark
    question shorter than 13 words (but at least MIN_WORDS) matches when the record contains it whole.
    13-grams found in 3 or more benchmark items are boilerplate ("answer the following question ...") and
    are ignored.
  * embedding similarity: cosine >= threshold between a question's MiniLM embedding and the record's, or
    any window of 1..`window` consecutive sentences of it (issue 23: compared whole, none of 29 paraphrased
    questions inside 100-300-word records was caught; by window, 15 were: bench/decontam_windows.py).
    The reject names the item, the window's sentence span and its first words (record text, never the
    benchmark's).
"""

from __future__ import annotations

import re
from collections import defaultdict

from synth.filters import text as tx
from synth.filters.batch import BatchStep

from synth.records import Reject

MIN_WORDS = 6
BOILERPLATE_ITEMS = 3
EMBEDDING_KEY = "synth_query_embedding"  # (text, vector) left on the document for dedup to reuse
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def sentence_windows(text: str, width: int) -> list[tuple[int, int, str]]:
    """(first sentence, last sentence, text) of every run of 1..width consecutive sentences, 1-based; a text
    of at most `width` sentences is only compared whole (the record embedding covers it)."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    if len(sentences) <= width:
        return []
    return [(i + 1, i + size, " ".join(sentences[i:i + size]))
            for size in range(1, width + 1) for i in range(len(sentences) - size + 1)]


class DecontamStep(BatchStep):
    name = "decontam"

    def __init__(self, files: list[str], kind: str, ngram: int = 13, embedding: bool = True,
                 threshold: float = 0.9, model: str | None = None, batch_size: int = 256, window: int = 3):
        super().__init__()
        self.window = window  # sentences per window (0: compare whole records only)
        self.files, self.kind, self.ngram = [str(f) for f in files], kind, ngram
        self.embedding, self.threshold, self.model, self.batch_size = embedding, threshold, model, batch_size
        self._ready = False

    def setup(self, rank: int, world_size: int) -> None:
        if self._ready:
            return
        from synth.filters import benchmarks

        items = benchmarks.load(self.files)
        self._labels = [i.label for i in items]
        self._grams, self._short = _gram_index([tx.words(i.text) for i in items], self.ngram)
        self._index = None
        if self.embedding:
            from synth.filters import ann, embed

            self._index = ann.build(embed.encode([i.text for i in items], self.model), "flat")
        self._ready = True

    def process_batch(self, docs: list) -> None:
        from synth import records

        texts = [tx.query_text(records.record_of(d), self.kind) for d in docs]
        left = []
        for doc, text in zip(docs, texts):
            hit = self._ngram_hit(tx.words(text))
            if hit is not None:
                self.reject(doc, Reject("contaminated_ngram", f"{hit[1]}-word overlap with {self._labels[hit[0]]}"))
            else:
                left.append((doc, text))
        if self._index is None or not left:
            return
        from synth.filters import ann, embed

        vectors = embed.encode([t for _, t in left], self.model)
        sims, ids = ann.search(self._index, vectors, 1)
        rest = []
        for (doc, text), vector, sim, idx in zip(left, vectors, sims[:, 0], ids[:, 0]):
            if sim >= self.threshold:
                self.reject(doc, Reject("contaminated_embedding", f"cosine {sim:.3f} with {self._labels[idx]}"))
            else:
                rest.append((doc, text, vector))
        hits = self._window_hits([text for _, text, _ in rest])
        for (doc, text, vector), hit in zip(rest, hits):
            if hit:
                self.reject(doc, Reject("contaminated_embedding", hit))
            else:
                doc.metadata[EMBEDDING_KEY] = (text, vector)

    def _window_hits(self, texts: list[str]) -> list[str | None]:
        """Per text: the reject detail of its best sentence window at or above the threshold, else None.
        All windows of the batch are encoded in one call (sorted by length inside the encoder)."""
        from synth.filters import ann, embed

        windows = [sentence_windows(t, self.window) if self.window else [] for t in texts]
        flat = [w for ws in windows for w in ws]
        if not flat:
            return [None] * len(texts)
        sims, ids = ann.search(self._index, embed.encode([w[2] for w in flat], self.model), 1)
        found, at = [], 0
        for ws in windows:
            block = sims[at:at + len(ws), 0]
            best = at + int(block.argmax()) if len(ws) else -1
            found.append(self._window_detail(flat[best], sims[best, 0], ids[best, 0])
                         if len(ws) and sims[best, 0] >= self.threshold else None)
            at += len(ws)
        return found

    def _window_detail(self, window: tuple[int, int, str], sim: float, item: int) -> str:
        first, last, text = window
        where = f"sentence {first}" if first == last else f"sentences {first}-{last}"
        return f"cosine {sim:.3f} with {self._labels[item]} in {where}: {_opening(text)}"

    def _ngram_hit(self, words: list[str]) -> tuple[int, int] | None:
        """(item, n) of the first benchmark n-gram found in `words`."""
        if len(words) >= self.ngram:
            for i in range(len(words) - self.ngram + 1):
                item = self._grams.get(hash(tuple(words[i:i + self.ngram])))
                if item is not None:
                    return item, self.ngram
        for length, table in self._short.items():
            for i in range(len(words) - length + 1):
                item = table.get(hash(tuple(words[i:i + length])))
                if item is not None:
                    return item, length
        return None


def _opening(window: str, words: int = 8) -> str:
    """The window's first words (the record's own text, never the benchmark's)."""
    head = window.split()
    return '"' + " ".join(head[:words]) + (' ..."' if len(head) > words else '"')


def _gram_index(items: list[list[str]], n: int) -> tuple[dict, dict]:
    """n-gram hash -> first item (boilerplate n-grams dropped); short items by length: hash -> item."""
    owners: dict[int, set] = defaultdict(set)
    short: dict[int, dict] = defaultdict(dict)
    for item, words in enumerate(items):
        if len(words) >= n:
            for i in range(len(words) - n + 1):
                owners[hash(tuple(words[i:i + n]))].add(item)
        elif len(words) >= MIN_WORDS:
            short[len(words)].setdefault(hash(tuple(words)), item)
    grams = {g: min(s) for g, s in owners.items() if len(s) < BOILERPLATE_ITEMS}
    return grams, dict(short)
