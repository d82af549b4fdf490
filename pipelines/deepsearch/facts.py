"""Grounded facts: what a link occurrence says (an edge) and how an entity's own entry describes it.

An `Edge` is one link occurrence src -> dst with the sentence around it as the verbatim quote and a
*cue*: the few words right before (and, if those say nothing, right after) the anchor in the same
clause, e.g. "was developed for" in "CSSL-I was developed for {Jet Propulsion Labs} in 1968". The cue
is the relation: the question says "its entry reads '...was developed for [A]...'", and the uniqueness
check treats it as a predicate (the cue's content words occur in the sentence of a link to the object).

A `Description` is a span of an entity's *own* entry (its opening definition), cleaned of list numbers
and a leading "(ABBR)", that identifies it without its name; names that must stay hidden are elided.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from synth.pipelines.deepsearch import text as tx

QUOTE_CHARS = 300       # longest quote kept for an edge (the sentence, clipped around the anchor)
DESC_CHARS = 200        # longest description span (longer sentences are cut at a clause or word)
CUE_LEFT, CUE_RIGHT = 4, 2
_DELIMS = set(",;:()[]\"“”{}|=<>\n")
_PREFIX = re.compile(r"^(?:\d+\.\s*|(?:or\s+)?\([^()]{0,60}\)\s*|(?:or\s+)?/[^/\n]{0,40}/\s*|\[[^\]\n]{0,80}\]\s*|[\"“”]\s*)+")
_PRONOUN_START = re.compile(r"^(?:It|This|They|These|He|She|Its|See)\b")
_TOKEN_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9'’\-./+#]*[.,]?$")


@dataclass(frozen=True)
class Edge:
    src: int                  # document row of the subject (the quote is in its text)
    dst: int                  # document row of the object
    start: int                # quote span in src text
    end: int
    anchor_start: int         # the link anchor, inside the quote
    anchor_end: int
    left: str                 # cue words before the anchor (verbatim, may be "")
    right: str                # cue words after the anchor (verbatim, may be "")

    @property
    def cue_words(self) -> tuple[str, ...]:
        return tuple(tx.content_words(f"{self.left} {self.right}"))

    @property
    def has_cue(self) -> bool:
        return bool(self.cue_words)


@dataclass(frozen=True)
class Description:
    row: int
    start: int                # verbatim span in the entity's own text
    end: int
    quote: str


def _clause_left(text: str, lo: int, hi: int, stops: list[tuple[int, int]]) -> tuple[int, int]:
    """The span of up to CUE_LEFT tokens before `hi`, stopping at a delimiter or another anchor."""
    for s, e in stops:
        if lo <= e <= hi:
            lo = max(lo, e)
    window = text[lo:hi]
    cut = max((i for i, ch in enumerate(window) if ch in _DELIMS), default=-1)
    window_start = lo + cut + 1
    tokens = list(re.finditer(r"\S+", text[window_start:hi]))
    if tokens and tokens[0].start() == 0 and window_start > 0 and text[window_start - 1].isalnum():
        tokens = tokens[1:]  # the tail of a word cut by a stop ("{boot}ed"): not a word of its own
    tokens = tokens[-CUE_LEFT:]
    if not tokens:
        return hi, hi
    return window_start + tokens[0].start(), window_start + tokens[-1].end()


def _clause_right(text: str, lo: int, hi: int, stops: list[tuple[int, int]]) -> tuple[int, int]:
    for s, e in stops:
        if lo <= s <= hi:
            hi = min(hi, s)
    window = text[lo:hi]
    cut = min((i for i, ch in enumerate(window) if ch in _DELIMS or ch in ".!?"), default=len(window))
    tokens = list(re.finditer(r"\S+", window[:cut]))
    if tokens and tokens[-1].end() == len(window) and hi < len(text) and text[hi].isalnum():
        tokens = tokens[:-1]  # a word cut by a stop
    tokens = tokens[:CUE_RIGHT]
    if not tokens:
        return lo, lo
    return lo + tokens[0].start(), lo + tokens[-1].end()


def _clean_tokens(piece: str) -> str:
    """Keep the cue only if it reads as prose (no code, no markup); list numbers ("2.") go."""
    piece = re.sub(r"^(?:\d+\.|[a-z]\))\s*", "", piece.strip())
    tokens = piece.split()
    return piece if tokens and all(_TOKEN_OK.match(t) for t in tokens) else ""


def _glued(text: str, start: int, end: int) -> bool:
    """An anchor inside a word ("{boot}ed", "anti-{spam}") cannot be replaced by a placeholder."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return before.isalnum() or before == "-" or after.isalnum() or after == "-"


def _case_mismatch(anchor: str, title: str) -> bool:
    """A lower-case word linked to an acronym entry ("shells" -> SHELL, a Datatron language, while the
    entry "shell" exists): the corpus resolved a loose title match; such a link is not a reliable fact."""
    return title.isupper() and len(title) > 1 and not any(ch.isupper() for ch in anchor)


def make_edge(kb, link, subject_names: tuple[str, ...]) -> Edge | None:
    """The grounded edge for one link occurrence, or None if it cannot be quoted cleanly."""
    if link.start is None or link.end is None or link.src_row == link.dst_row:
        return None
    doc = kb.doc(link.src_row)
    if doc.text[link.start:link.end] != link.anchor or _glued(doc.text, link.start, link.end):
        return None
    if _case_mismatch(link.anchor, kb.doc(link.dst_row).title):
        return None
    s0, s1 = tx.sentence_at(doc.text, link.start, list(kb.sentences(link.src_row)))
    s1 = max(s1, link.end)  # an anchor across a sentence break the splitter saw: the quote still holds it
    stops = [(l.start, l.end) for l in kb.links_from(link.src_row)
             if l.start is not None and l.start != link.start and s0 <= l.start < s1]
    for name in subject_names:  # the subject's own name never goes into a cue
        for m in re.finditer(re.escape(name), doc.text[s0:s1]):
            stops.append((s0 + m.start(), s0 + m.end()))
    ls, le = _clause_left(doc.text, s0, link.start, stops)
    rs, re_ = _clause_right(doc.text, link.end, s1, stops)
    left, right = _clean_tokens(doc.text[ls:le]), _clean_tokens(doc.text[rs:re_])
    if len(tx.content_words(left)) >= 2:
        right = ""  # enough said before the anchor; fewer words from the answer's entry in the question
    if right.endswith((".", ",")):
        right = right[:-1]
    q0, q1 = tx.clip_span(doc.text, s0, s1, (link.start, link.end), QUOTE_CHARS)
    return Edge(link.src_row, link.dst_row, q0, q1, link.start, link.end, left, right)


def edges_from(kb, row: int) -> list[Edge]:
    """One edge per distinct neighbour: its best occurrence (with a cue if any), in text order."""
    return kb.cache("edges").get_or(row, lambda: _edges_from(kb, row))


def _edges_from(kb, row: int) -> list[Edge]:
    best: dict[int, Edge] = {}
    names = kb.names(row)
    for link in kb.links_from(row):
        edge = make_edge(kb, link, names)
        if edge is None:
            continue
        current = best.get(edge.dst)
        if current is None or (edge.has_cue and not current.has_cue):
            best[edge.dst] = edge
    return sorted(best.values(), key=lambda e: e.anchor_start)


def describe(kb, row: int, hidden_rows: tuple[int, ...] = ()) -> Description | None:
    """An identifying description of `row` from its own entry: one of its first sentences, which still
    says something (>= 3 content words, a 12+ character verbatim piece) once the names of `row` and of
    `hidden_rows` are elided; None when no opening sentence is usable."""
    from synth.pipelines.deepsearch.operators import Masked, elide

    usable = []
    for s, quote in openings(kb, row):
        masked = Masked(quote)
        for r in (row, *hidden_rows):
            elide(masked, list(kb.names(r)), "")
        fragments = masked.fragments
        if fragments and len(tx.content_words(" ".join(fragments))) >= 3 and max(map(len, fragments)) >= 12:
            usable.append((len(masked.repl), s, quote))
    if not usable:
        return None
    # the opening definition unless it needs several elisions; a later sentence only as a fallback
    _, s, quote = min(usable, key=lambda u: (u[0] > 1, u[1]))
    return Description(row, s, s + len(quote), quote)


def openings(kb, row: int) -> list[tuple[int, str]]:
    """(start, quote) of the usable opening sentences of an entry (cached per KB)."""
    return kb.cache("openings").get_or(row, lambda: _find_openings(kb, row))


def _find_openings(kb, row: int) -> list[tuple[int, str]]:
    doc, found = kb.doc(row), []
    for s, e in kb.sentences(row)[:3]:
        m = _PREFIX.match(doc.text[s:e])
        s = s + (m.end() if m else 0)
        quote = _clip_clause(doc.text[s:e], DESC_CHARS).rstrip(".;:, ")
        if len(tx.content_words(quote)) >= 4 and _prose(quote) and not _name_like(quote) \
                and not _PRONOUN_START.match(quote) and quote[:1].isupper():
            found.append((s, quote))
    return found


def _clip_clause(sentence: str, limit: int) -> str:
    """At most `limit` characters: cut at the last clause boundary (, ; :) past 60% of it, else at a
    space; an unclosed parenthesis at the end is dropped with what follows it."""
    if len(sentence) <= limit:
        return sentence
    window = sentence[:limit]
    cut = max(window.rfind(", "), window.rfind("; "), window.rfind(": "))
    if cut < 0.6 * limit:
        cut = window.rfind(" ")
    piece = window[:cut] if cut > 0 else window
    if piece.count("(") > piece.count(")"):
        piece = piece[: piece.rfind("(")]
    return piece.rstrip()


def _name_like(quote: str) -> bool:
    """An expansion of the title ("Redundant Arrays of Independent Disks") names the entity: not a description."""
    ws = quote.split()
    return len(ws) <= 8 and sum(w[:1].isupper() for w in ws) >= 0.6 * len(ws)


def _prose(quote: str) -> bool:
    """Readable prose: mostly letters, one line, no e-mail addresses or URLs."""
    letters = sum(ch.isalpha() or ch.isspace() for ch in quote)
    return letters >= 0.8 * len(quote) and "\n" not in quote.strip() and not re.search(r"@|https?:|ftp:|www\.", quote)


def describable(kb, row: int, hidden_rows: tuple[int, ...] = ()) -> bool:
    """Whether some opening sentence of `row` gives an abstract description (abstract.py) once the names
    of `row` and `hidden_rows` are hidden: the condition for a walk to end at `row`."""
    from synth.pipelines.deepsearch.abstract import abstract

    hidden = [n for r in (row, *hidden_rows) for n in kb.names(r)]
    return any(abstract(kb, quote, hidden) is not None for _, quote in openings(kb, row))
