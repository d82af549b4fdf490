"""Link disambiguation (issue 20, point 4): is this link's target the thing the anchor means?

The corpus resolves a link by title alone ({Eli} -> ELI, an IBM 705 system, in "the Eli
compiler-compiler"). This module scores each link occurrence with evidence a reader uses:

    case        the anchor's spelling against the title's: an all-caps title reached from a mixed-case
                anchor (Eli -> ELI), a capitalised name in mid-sentence reaching a lower-case common noun
                (the Jupiter Project -> jupiter, Epoch -> epoch), a lower-case word reaching a capitalised
                proper title (matrix -> Matrix, cyberspace)
    context     content words around the anchor (and the source's title) that occur in the target's
                own opening text
    category    the source and target share a category tag
    neighbours  the source links to entries that the target links to or is linked from (its "see also")
    senses      a target whose entry is a list of numbered senses is ambiguous by construction

and keeps a link only when its confidence reaches `THRESHOLD`, calibrated on a hand-labelled sample
(tests/deepsearch/data/link_labels.jsonl). It reads the corpus through the KB only, so it does not
care how the link graph is stored (issue 29 moves it on disk).
"""

from __future__ import annotations

import re

from synth.pipelines.deepsearch import text as tx

THRESHOLD = 0.5
WINDOW = 160           # characters of source text on each side of the anchor used as context
HUB_IN_DEGREE = 60     # a shared neighbour linked from more entries (Jargon File, IBM) proves nothing
TARGET_CHARS = 600     # how much of the target's text its "own words" are read from
_SENSES = re.compile(r"(?:^|\n\s*\n)\s*2\.\s")


def _case_penalty(anchor: str, names: tuple[str, ...], sentence_start: bool) -> float:
    """How badly the anchor's spelling fits the closest name of the target (0 = as written)."""
    a = anchor.strip()
    forms = {a, a.removesuffix("s"), a.removesuffix("es")}
    if forms & set(names) or sentence_start and {f[:1].lower() + f[1:] for f in forms} & set(names):
        return 0.0
    same = [n for n in names if n.lower() in {f.lower() for f in forms}]
    return max((_spelling_penalty(a, n, sentence_start) for n in same), default=0.0) if same else 0.0


def _spelling_penalty(a: str, t: str, sentence_start: bool) -> float:
    if len(t.split()) > 1:
        return 0.0                          # "artificial life" / "Artificial Life": title case is style
    if t.isupper() and len(t) > 1 and not a.isupper():
        return 1.0                          # Eli -> ELI, login -> LOGIN
    if a[:1].isupper() and t[:1].islower() and not sentence_start:
        return 1.0                          # "the Epoch editor" -> epoch
    if a[:1].islower() and t[:1].isupper() and not t.isupper():
        return 1.0                          # "matrix computation" -> Matrix
    return 0.0


def _own_words(kb, row: int) -> frozenset:
    def compute():
        doc = kb.doc(row)
        return frozenset(tx.content_words(doc.title + " " + doc.text[:TARGET_CHARS]))
    return kb.cache("own_words").get_or(row, compute)


def _neighbours(kb, row: int) -> frozenset:
    """Entries `row` links to or is linked from (the raw graph: this module decides what is trusted)."""
    def compute():
        raw = kb.corpus.graph
        return frozenset(l.dst_row for l in raw.links_from(row)) | frozenset(l.src_row for l in raw.links_to(row))
    return kb.cache("neighbours").get_or(row, compute)


def _see_also(kb, row: int) -> frozenset:
    """Entries `row`'s own text links to. Only these count as the target's side: in-links would let a
    cluster of wrong links vouch for each other (every Eli page links {Eli} to ELI, the IBM 705 system)."""
    return kb.cache("see_also").get_or(row, lambda: frozenset(
        l.dst_row for l in kb.corpus.graph.links_from(row) if kb.in_degree[l.dst_row] <= HUB_IN_DEGREE))


def features(kb, link) -> dict:
    src, dst = kb.doc(link.src_row), kb.doc(link.dst_row)
    start = link.start if link.start is not None else 0
    before = src.text[max(0, start - WINDOW):start]
    after = src.text[(link.end or start):(link.end or start) + WINDOW]
    sentence_start = not before.strip() or before.rstrip()[-1:] in ".:;\n" or re.search(r"(?:^|\n)\s*\d+\.\s*$", before) is not None
    anchor_words = set(tx.content_words(link.anchor))
    context = (set(tx.content_words(before + " " + after + " " + src.title)) - anchor_words)
    shared = len(context & (_own_words(kb, link.dst_row) - anchor_words))
    others = _neighbours(kb, link.src_row) - {link.dst_row}
    return {"case": _case_penalty(link.anchor, kb.names(link.dst_row), sentence_start),
            "context": shared,
            "category": bool(set(src.categories) & set(dst.categories)),
            "neighbours": len(others & _see_also(kb, link.dst_row)),
            "senses": bool(_SENSES.search(dst.text))}


def confidence(kb, link) -> float:
    """0..1: how sure we are that the link's target is the entity its anchor names (cached)."""
    key = (link.src_row, link.start, link.dst_row)
    return kb.cache("link_confidence").get_or(key, lambda: _score(features(kb, link)))


def _score(f: dict) -> float:
    """Calibrated on tests/deepsearch/data/link_labels.jsonl: a spelling mismatch needs a shared
    neighbour (the source's "see also" reaching the target's) to be kept; context words help little,
    because a wrong homonym often shares them ("constraints" -> the CONSTRAINTS language)."""
    score = 0.8 - 0.5 * f["case"]
    score += min(f["neighbours"], 2) * 0.25 + (0.1 if f["category"] else 0.0) + min(f["context"], 3) * 0.05
    score -= 0.15 if f["senses"] else 0.0
    return max(0.0, min(1.0, score))


def trusted(kb, link) -> bool:
    return confidence(kb, link) >= THRESHOLD
