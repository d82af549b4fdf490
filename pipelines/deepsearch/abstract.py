"""Abstract descriptions (issue 20, point 2): an entity's opening definition as a short noun phrase that
describes without quoting.

From the opening sentence (facts.describe) only the defining noun phrase is used, cut at the first
clause boundary, and split into a head ("A compiler generator") and modifier phrases, each starting at a
preposition or participle ("written | by Andreas Koschinsky | for the M-20"). Then:

  elide    rare words (in fewer than RARE_DOCS entries), proper names and any word of a hidden name
           are dropped: from the head word by word, a modifier phrase as a whole (so what remains is
           still a whole noun phrase, never "designed by for")
  years    a modifier phrase with a year goes (the period operator states the year as a decade instead)

What the check may rely on is the bag of content words left (every one occurs in the entity's entry):
looser than the text, never wrong. The result must keep a head noun and >= MIN_WORDS content words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch.tokens import content_stems, stem

RARE_SHARE = 1 / 4000  # a word in fewer than this share of entries finds its entity by itself: elided
MIN_WORDS = 2          # content words an abstract description must keep
MAX_MODIFIERS = 1      # modifier phrases kept after the head (longer reads as a quote)
_BOUNDARY = re.compile(r"[,;:(\[\"“]|\s(?:which|that|who|whose|where|when|i\.e\.|e\.g\.|and is|but)\s|\.\s|\.$")
_PREPS = frozenset("by at in on for from with of to into under using via between over about as".split())
_DETERMINERS = frozenset("a an the".split())
_DANGLING = frozenset("no any its their his her this these those such both either than very also more most as".split())
_VERBS = frozenset("is are was were has have had does do can could will would shall should may might must refers means "
                   "other same following above previous latter former".split())  # verbs, or anaphora: a clause, not a name
MAX_HEAD = 5           # a longer head without a preposition is a clause ("The parser derives ..."), not a name
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-+#]*")
_PARTICIPLES = frozenset("written built made known used run seen done given taken found held kept".split())


@dataclass
class Abstract:
    text: str                                   # the noun phrase shown ("a compiler generator for parsers")
    words: list[str]                            # content words a matching entry must contain
    elided: list[str] = field(default_factory=list)   # words and phrases the elide operator dropped

    def to_json(self) -> dict:
        return {"kind": "abstract", "text": self.text, "words": self.words, "elided": self.elided}


def _segments(phrase: str) -> list[list[str]]:
    """Head + modifier phrases: a new phrase starts at a preposition or an -ed/-ing participle."""
    segs: list[list[str]] = [[]]
    for w in _WORD.findall(phrase):
        low = w.lower()
        starts = low in _PREPS or _participle(low)
        if starts and segs[-1] and (len(segs) > 1 or len(segs[0]) > 1):
            if _participle(segs[-1][-1].lower()) and low in _PREPS and len(segs) > 1 and len(segs[-1]) == 1:
                segs[-1].append(w)  # "written by": participle + preposition stay one phrase
                continue
            segs.append([])
        segs[-1].append(w)
    return [s for s in segs if s]


def _dangles(word: str) -> bool:
    low = word.lower()
    return low in _PREPS or low in _DETERMINERS or low in _DANGLING or (low.endswith("ly") and len(low) > 4)


def _participle(low: str) -> bool:
    return low in _PARTICIPLES or (len(low) > 4 and low.endswith("ed"))


def _rare(kb, word: str) -> bool:
    low = word.lower()
    if low in tx.STOPWORDS or low in _PREPS:
        return False
    return doc_freq(kb, low) < rare_docs(kb)


def rare_docs(kb) -> int:
    return max(1, round(len(kb) * RARE_SHARE))  # tiny corpora: every word is rare, none is elided for it


def doc_freq(kb, word: str) -> int:
    """How many entries contain the word (exact-phrase index, capped: only 'rare or not' matters)."""
    return kb.cache("doc_freq").get_or(word, lambda: len(kb.phrases.find(f" {word} ", limit=rare_docs(kb)).rows))


def _proper(word: str, first: bool) -> bool:
    return not first and (word[:1].isupper() or any(ch.isdigit() for ch in word))


def _bad(kb, word: str, first: bool, hidden: set[str]) -> bool:
    return stem(word.lower()) in hidden or _proper(word, first) or _rare(kb, word) or bool(tx.years(word))


def abstract(kb, quote: str, hidden_names: list[str], modifiers: int | None = None) -> Abstract | None:
    """The abstract noun phrase of a description quote, or None when too little is left."""
    phrase = _BOUNDARY.split(quote, maxsplit=1)[0]
    segs = _segments(phrase)
    if not segs or segs[0][0].lower() not in _DETERMINERS or len(segs[0]) > MAX_HEAD:
        return None  # not a defining noun phrase ("When a technology is ...", "Tends to imply ...")
    hidden = set().union(*(content_stems(n) for n in hidden_names)) if hidden_names else set()
    elided: list[str] = []
    head = []
    for i, w in enumerate(segs[0]):
        if w.lower() not in _DETERMINERS and _bad(kb, w, i == 0, hidden):
            elided.append(w)
        else:
            head.append(w)
    while len(head) > 1 and _dangles(head[-1]):
        elided.append(head.pop())
    if any(w.lower().endswith("ly") or w.lower() in _VERBS for w in head) or segs[0][-1] not in head and not elided[-1:] == [segs[0][-1]]:
        return None  # an adverb in the head means a clause ("the output typically goes ..."), not a noun phrase
    if segs[0][-1] not in head and not _dangles(segs[0][-1]):
        return None  # the head noun itself had to go: what is left names nothing
    kept = [head]
    for seg in segs[1:]:
        if len(kept) > (MAX_MODIFIERS if modifiers is None else modifiers) or any(_bad(kb, w, False, hidden) for w in seg):
            elided.append(" ".join(seg))
            continue
        kept.append(seg)
    while len(kept) > 1 and _dangles(kept[-1][-1]):
        if len(kept[-1]) > 2:
            elided.append(kept[-1].pop())
        else:
            elided.append(" ".join(kept.pop()))
    text = " ".join(w for seg in kept for w in seg)
    text = re.sub(r"^(?:a|an|the)\s+(?=(?:a|an|the)\b)", "", text, flags=re.I)
    words = tx.content_words(text)
    if len(words) < MIN_WORDS or head and head[-1].lower() in _DETERMINERS | _PREPS:
        return None
    text = _with_article(text)
    return Abstract(text, sorted(set(words)), elided)


def _with_article(text: str) -> str:
    first = text.split()[0].lower()
    if first in _DETERMINERS:
        rest = text.split(" ", 1)[1] if " " in text else ""
        return f"{tx.article(rest)} {rest}" if first in ("a", "an") else f"the {rest}"
    body = text[0].lower() + text[1:] if not text[:2].isupper() else text
    return f"{tx.article(body)} {body}"
