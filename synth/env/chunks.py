"""Cutting a document's text into pages (the `open` tool) and sentence passages (the dense index and
the `visit` tool), and picking a query-aware snippet (the `search` tool). Every piece is a (start, end) span of the exact text, so
anything shown to an agent can be traced back to character offsets."""

from __future__ import annotations

import re

PAGE_CHARS = 3000
SNIPPET_CHARS = 240
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
_WORD = re.compile(r"\w+")
_STOP = frozenset(["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its", "of", "on", "or", "that", "the", "to", "was", "were", "which", "with", "who", "what", "when", "where", "how", "why"])


def _cut(text: str, start: int, limit: int) -> int:
    """End of a piece that starts at `start` and is at most `limit` long: a paragraph break, else a
    sentence end, else a space in the second half of the window, else a hard cut."""
    hard = start + limit
    if hard >= len(text):
        return len(text)
    window = text[start:hard]
    half = limit // 2
    for finder in (lambda w: w.rfind("\n\n"), _last_sentence_end, lambda w: w.rfind(" ")):
        pos = finder(window)
        if pos >= half:
            return start + pos + 1
    return hard


def _last_sentence_end(window: str) -> int:
    last = -1
    for m in _SENTENCE_END.finditer(window):
        last = m.start()
    return last


def _spans(text: str, limit: int) -> list[tuple[int, int]]:
    spans, start = [], 0
    while start < len(text):
        while start < len(text) and text[start].isspace():
            start += 1
        if start >= len(text):
            break
        end = _cut(text, start, limit)
        stripped = end
        while stripped > start and text[stripped - 1].isspace():
            stripped -= 1
        spans.append((start, stripped))
        start = end
    return spans or [(0, 0)]


def pages(text: str, size: int = PAGE_CHARS) -> list[tuple[int, int]]:
    return _spans(text, size)


def terms(text: str) -> set[str]:
    """Crude, fast matching keys: lower-cased non-stop words cut to 5 letters (language ~ languages)."""
    return {w[:5] for w in _WORD.findall(text.lower()) if w not in _STOP}


def snippet(text: str, query: str, size: int = SNIPPET_CHARS) -> tuple[int, int]:
    """The span of about `size` characters around the sentence sharing most words with the query."""
    wanted = terms(query)
    best, best_score = 0, -1
    for start, _ in _spans(text, 160):
        score = len(wanted & terms(text[start: start + 160]))
        if score > best_score:
            best, best_score = start, score
    end = _cut(text, best, size)
    while end > best and text[end - 1].isspace():
        end -= 1
    return best, end


_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str, min_chars: int = 60, max_chars: int = 300) -> list[tuple[int, int]]:
    """Sentence spans: cut after . ! ? and at line breaks; fragments shorter than `min_chars` ("e.g.",
    list items, "See X.") join the next one while the result stays within `max_chars`; a sentence
    longer than `max_chars` is cut like a page. MiniLM is a sentence encoder: one vector per sentence
    keeps a fact's words from being averaged away by the rest of a paragraph."""
    pieces, start = [], 0
    for m in _BOUNDARY.finditer(text):
        if m.start() > start:
            pieces.append((start, m.start()))
        start = m.end()
    if start < len(text):
        pieces.append((start, len(text)))
    merged: list[tuple[int, int]] = []
    for s, e in pieces:
        if merged and merged[-1][1] - merged[-1][0] < min_chars and e - merged[-1][0] <= max_chars:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    out: list[tuple[int, int]] = []
    for s, e in merged:
        out.extend((s + a, s + b) for a, b in _spans(text[s:e], max_chars)) if e - s > max_chars else out.append((s, e))
    return out or [(0, len(text))]


def window(spans: list[tuple[int, int]], i: int, radius: int = 1) -> tuple[int, int]:
    """Span from sentence i-radius to i+radius: a matched sentence with its context."""
    return spans[max(0, i - radius)][0], spans[min(len(spans) - 1, i + radius)][1]
