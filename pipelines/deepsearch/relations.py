"""Typed relations and attributes read off the corpus text (issue 20, point 6).

A link occurrence S -> O gets a relation type from the words right before its anchor in S's sentence
("...was {developed at} {Bell Labs}" -> `developed_at`); a link whose words say nothing typed is
`related` (S's entry refers to O). Each type has the verb phrases the realizer uses, read from S's side
("a language that was developed at ...") and the predicate is the same function on every link the
solver looks at, so the question never claims a relation the uniqueness check did not test.

Attributes of an entity: its categories (the corpus's own tags), its year (a year its entry
ties to an event of the entity: the period operator turns it into a decade), its name shape (the partial operator).
"""

from __future__ import annotations

import re

from synth.pipelines.deepsearch import text as tx
from synth.pipelines.grammar import RELATED, VERBS  # noqa: F401 - VERBS re-exported for the realizer

LEFT_CHARS = 60  # how far before the anchor the relation words may start (same sentence only)

# relation -> pattern on the text right before the anchor (lower case, spaces normalised)
_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple((name, re.compile(p + r"(?:\s+(?:the|an?))?\s*$")) for name, p in (
    ("successor_of", r"\b(?:successor (?:to|of)|replaces|replaced|supersedes|superseded|follow-on to|follow-up to)"),
    ("predecessor_of", r"\b(?:predecessor (?:to|of)|replaced by|superseded by|forerunner of|precursor (?:to|of))"),
    ("developed_at", r"\b(?:developed|designed|written|created|invented|implemented|built|produced|made|released) at"),
    ("created_by", (r"\b(?:developed|designed|written|created|invented|implemented|built|produced|devised|"
                    r"proposed|introduced|founded|coined|defined|published|released|made) by")),
    ("based_on", (r"\b(?:based on|derived from|descendant of|descended from|dialect of|variant of|extension (?:of|to)|"
                  r"subset of|superset of|derivative of|inspired by|influenced by|modelled on|modeled on|"
                  r"clone of|version of|port of|implementation of|successor language to)")),
    ("part_of", (r"\b(?:part of|component of|member of|module of|feature of|included (?:in|with)|"
                 r"distributed with|supplied with|bundled with)")),
    ("written_in", r"\b(?:written in|implemented in|programmed in|coded in)"),
    ("runs_on", r"\b(?:runs? on|running on|runs? under|ported to|available (?:on|for)|implemented on)"),
    ("similar_to", r"\b(?:like|similar to|resembling|resembles|compare|cf\.|contrast with|contrast)"),
    ("used_in", r"\b(?:used in|used by|found in|used on|common in|popular in|employed in)"),
    ("made_for", r"\b(?:(?<!known )(?<!famous )(?<!noted )(?<!responsible )(?<!and )(?<!or )for|designed for|intended for|aimed at|targeted at|written for|developed for)"),
    ("runs_on", r"\b(?:on|under)"),
    ("kind_of", r"(?:^(?:\d+\.\s*)?(?:\([^()]*\)\s*)?(?:an?|any)|\b(?:type|kind|form|sort|class|family|style) of)"),
    ("uses", r"\b(?:uses|using|use of|employs|employing|relies on)"),
    ("created_by", r"\bby"),
    ("comes_from", r"\b(?:from|sold by|marketed by|product of)"),
))



def relation_of(kb, link) -> str:
    """The relation type of one link occurrence."""
    return relation_at(kb, link.src_row, link.start)


def relation_at(kb, src_row: int, start: int | None) -> str:
    """The relation type of the link whose anchor starts at `start` in `src_row` (cached)."""
    if start is None:
        return RELATED
    return kb.cache("relation").get_or((src_row, start), lambda: _relation(kb, src_row, start))


def _relation(kb, src_row: int, start: int) -> str:
    text = kb.doc(src_row).text
    s0, _ = tx.sentence_at(text, start, list(kb.sentences(src_row)))
    left = " ".join(text[max(s0, start - LEFT_CHARS):start].lower().split())
    left = re.sub(r"[{}]", "", left)
    for name, pattern in _PATTERNS:
        if pattern.search(left):
            return name
    return RELATED


# The entity's own date is a year its entry ties to an event of the entity ("developed at MIT in 1975",
# "born 1915", "In 1989 it was released"), not the first year it mentions: that was often a citation
# ("Springer 1990"), a predecessor's date ("based on the 1958 Algol") or an edit stamp, so the period
# operator stated a decade the entity is not from (issue 20, round 3).
_DATE_VERBS = (r"(?i:released|developed|designed|written|created|invented|introduced|founded|established|launched|"
               r"announced|published|began|begun|started|appeared|formed|built|proposed|defined|standardi[sz]ed|"
               r"adopted|produced|implemented|born|coined|shipped|unveiled|completed|devised|incorporated|"
               r"first used|came out|since|dates from)")
_YEAR_ONLY = r"(?:1[89]\d\d|20[0-2]\d)"
_VERB_THEN_YEAR = re.compile(r"\b" + _DATE_VERBS + r"\b[^.;:()\[\]\"]{0,40}?\b(" + _YEAR_ONLY + r")\b")
_YEAR_THEN_VERB = re.compile(r"\b[Ii]n (?:[A-Z][a-z]+ )?(" + _YEAR_ONLY + r")\b[^.;:()\[\]\"]{0,50}?\b" + _DATE_VERBS + r"\b")
_CITATION = re.compile(r"\[[^\]]*\]|\"[^\"]*\"[^.\n]*|\b(?:pp|Proc|LNCS|TR|ISBN|Vol)\b[^.\n]*")


def own_year(text: str) -> int | None:
    """The first year the text ties to an event of its entity (see _DATE_VERBS), citations left out."""
    clean = _CITATION.sub(" ", text)
    found = [(m.start(1), int(m.group(1))) for pattern in (_VERB_THEN_YEAR, _YEAR_THEN_VERB)
             for m in pattern.finditer(clean) if tx.years(m.group(1))]
    return min(found)[1] if found else None


def year_of(kb, row: int) -> int | None:
    """The entity's year (own_year of its entry; None if its entry dates no event of its own)."""
    return kb.cache("own_year").get_or(row, lambda: own_year(kb.doc(row).text))


def name_prefix(title: str) -> str | None:
    """A partial name a solver can check but not search: the first two letters of a title of 5+
    characters whose first word is not itself two letters long (that would be a whole word)."""
    clean = title.strip()
    first = clean.split()[0] if clean.split() else ""
    if len(clean) < 5 or not clean[:2].isalpha() or len(first) <= 2:
        return None
    return clean[:2]
