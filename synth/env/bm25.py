"""Lexical search: a bm25s index over the corpus articles (title + aliases + text).

Tokens: lower-cased words of 2+ characters, English stop words removed, Snowball English stems
(PyStemmer), so "languages" matches "language". Scores are computed for every article and the top k
taken with ties broken by position, which keeps results identical from run to run.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

PARAMS = {"k1": 1.5, "b": 0.75, "method": "lucene", "stemmer": "english", "stopwords": "en"}


def _tokenizer(params: dict):
    import Stemmer
    from bm25s.tokenization import Tokenizer

    stemmer = Stemmer.Stemmer(params["stemmer"]) if params.get("stemmer") else None
    return Tokenizer(stemmer=stemmer, stopwords=params.get("stopwords") or [])


def build_bm25(texts: Iterable[str | Iterable[str]], out: Path, tick: Callable[[int], None],
               params: dict | None = None) -> dict:
    """Index `texts` (one per article, in article order) into `out`; returns the recorded parameters."""
    import bm25s

    params = {**PARAMS, **(params or {})}
    tokenizer = _tokenizer(params)
    ids = []
    for doc in _tokenized_docs(tokenizer, texts):
        ids.append(doc)
        tick(len(ids))
    vocab = tokenizer.get_vocab_dict()
    if "" not in vocab:  # unknown query words map to "", which must exist in the index vocabulary
        vocab[""] = len(vocab)
    retriever = bm25s.BM25(k1=params["k1"], b=params["b"], method=params["method"])
    retriever.index((ids, vocab), show_progress=False)
    out.mkdir(parents=True, exist_ok=True)
    retriever.save(str(out), show_progress=False)
    tokenizer.save_vocab(str(out))
    (out / "synth_params.json").write_text(json.dumps(params, sort_keys=True), encoding="utf-8")
    return {**params, "vocabulary": len(vocab), "documents": len(ids)}


PIECE_CHARS = 1 << 20


def _pieces(text: str, size: int = PIECE_CHARS) -> Iterator[str]:
    """`text` in pieces of about `size` characters cut at whitespace, so tokens are the same as the whole
    text's (a piece without whitespace, one huge "word", is cut where it must)."""
    start = 0
    while len(text) - start > size:
        cut = text.rfind(" ", start, start + size)
        cut = start + size if cut <= start else cut
        yield text[start:cut]
        start = cut
    yield text[start:]


def rejoin_at_spaces(pieces: Iterable[str], min_chars: int = 1 << 16) -> Iterator[str]:
    """Text pieces cut anywhere, gathered to at least `min_chars` and re-cut at their last space (the rest
    carried into the next), so no word is split between two parts; a piece without a space goes as it is
    (as `_pieces` cuts a huge word). Small pieces are gathered because a piece without any token would
    add the tokenizer's empty token, which the whole text does not have."""
    carry = ""
    for piece in pieces:
        carry += piece
        if len(carry) < min_chars:
            continue
        cut = carry.rfind(" ")
        yield carry[:cut] if cut > 0 else carry
        carry = carry[cut:] if cut > 0 else ""
    if carry:
        yield carry


def _parts_pieces(text: str | Iterable[str], piece_chars: int) -> Iterator[str]:
    """A document given whole, or as parts (title line, text pieces) each ending where a word may end,
    so they need not be concatenated into a copy."""
    for part in (text,) if isinstance(text, str) else text:
        yield from _pieces(part, piece_chars)


def _tokenized_docs(tokenizer, texts: Iterable[str | Iterable[str]], piece_chars: int = PIECE_CHARS
                    ) -> Iterator[np.ndarray]:
    """Token ids per document (int32 arrays: ~8x smaller than lists of ints). A document is tokenized a
    piece at a time: the tokenizer's lists of strings and ints for a whole 20 MB page would take ~20x its
    size; per piece they take ~20x a megabyte, and the page's ids 4 bytes a token. A document may come as
    parts (whitespace-ended, so the tokens are those of their concatenation)."""
    owner: deque[tuple[int, bool]] = deque()  # (document, last piece of it) of each piece handed out

    def pieces():
        for number, text in enumerate(texts):
            parts = _parts_pieces(text, piece_chars)
            piece = next(parts)
            for following in parts:
                owner.append((number, False))
                yield piece
                piece = following
            owner.append((number, True))
            yield piece

    parts: list[np.ndarray] = []
    for tokens in tokenizer.streaming_tokenize(pieces(), update_vocab=True):
        _, last = owner.popleft()
        parts.append(np.asarray(tokens, dtype=np.int32))
        if last:
            yield parts[0] if len(parts) == 1 else np.concatenate(parts)
            parts = []


def topk_stable(scores: np.ndarray, k: int, *, positive_only: bool = False) -> np.ndarray:
    """Indices of the k best scores, best first, equal scores in index order. With `positive_only`,
    only scores > 0 count: selecting among the matching documents first keeps np.partition away
    from the mass of zero scores, on which it is ~50x slower (80 ms vs 2 ms for 200k documents)."""
    candidates = np.flatnonzero(scores > 0) if positive_only else np.arange(len(scores))
    values = scores[candidates]
    k = min(k, len(values))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < len(values):
        threshold = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= threshold
        candidates, values = candidates[keep], values[keep]
    order = np.lexsort((candidates, -values))
    return candidates[order][:k]


class BM25Index:
    def __init__(self, folder: Path):
        import bm25s

        self.params = json.loads((folder / "synth_params.json").read_text(encoding="utf-8"))
        self._retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        self._tokenizer = _tokenizer(self.params)
        self._tokenizer.load_vocab(str(folder))
        self._unknown = self._tokenizer.get_vocab_dict().get("")

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """[(article position, score)] with score > 0, best first."""
        ids = self._tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)[0]
        ids = [i for i in ids if i != self._unknown]
        if not ids:
            return []
        scores = np.asarray(self._retriever.get_scores(ids), dtype=np.float32)
        return [(int(i), float(scores[i])) for i in topk_stable(scores, k, positive_only=True)]
