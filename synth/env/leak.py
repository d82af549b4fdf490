"""Leak guard: drop tool results that share a word 13-gram with the question being solved.

The 13-gram overlap test is the one GPT-3 used for benchmark contamination: long enough that common
phrases do not trigger it, short enough to catch a copied question. Words are lower-cased runs of
letters/digits, so punctuation and spacing differences do not hide a copy.
"""

from __future__ import annotations

import re

N = 13
_WORD = re.compile(r"\w+")


def ngrams(text: str, n: int = N) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i: i + n]) for i in range(len(words) - n + 1)}


class LeakGuard:
    def __init__(self, question: str, n: int = N):
        self.n = n
        self._grams = ngrams(question, n)

    def __bool__(self) -> bool:  # a question shorter than n words can never leak
        return bool(self._grams)

    def leaks(self, text: str) -> bool:
        if not self._grams or not text:
            return False
        words = _WORD.findall(text.lower())
        return any(tuple(words[i: i + self.n]) in self._grams for i in range(len(words) - self.n + 1))
