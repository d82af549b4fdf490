"""Benchmark decontamination: drop records whose task statement overlaps a benchmark question.

Two tests, both naming the benchmark item matched (`FILE#ID`, never its text):
  * n-gram overlap: any shared word 13-gram (GPT-3's rule; CJK characters count as words). A benchmark
    question shorter than 13 words (but at least MIN_WORDS) matches when the record contains it whole.
    13-grams found in 3 or more benchmark items are boilerplate ("answer the following question ...") and
    are ignored.
  * embedding similarity: cosine >= threshold between the record's and the question's MiniLM embeddings
    (catches paraphrases that share no 13-gram).
"""

from __future__ import annotations

from collections import defaultdict

from synth.filters import text as tx
from synth.filters.batch import BatchStep

from synth.records import Reject

MIN_WORDS = 6
BOILERPLATE_ITEMS = 3
EMBEDDING_KEY = "synth_query_embedding"  # (text, vector) left on the document for dedup to reuse


class DecontamStep(BatchStep):
    name = "decontam"

    def __init__(self, files: list[str], kind: str, ngram: int = 13, embedding: bool = True,
                 threshold: float = 0.9, model: str | None = None, batch_size: int = 256):
        super().__init__()
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
        for (doc, text), vector, sim, idx in zip(left, vectors, sims[:, 0], ids[:, 0]):
            if sim >= self.threshold:
                self.reject(doc, Reject("contaminated_embedding", f"cosine {sim:.3f} with {self._labels[idx]}"))
            else:
                doc.metadata[EMBEDDING_KEY] = (text, vector)

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
