"""A deep-search question -> the clues a searcher can act on (pure text work; no gold data).

A clue is one clause of the question: the words it offers for a query, the quoted text it cites (if any),
and, when the question names its entities with placeholders ([A], [B]…), which entity the clause is about
and which other entities it refers to. Fluent questions without placeholders still split into clauses;
the solver then treats every clue as possibly related to every entity found so far.

    clues = parse_question(question)   # clues[0] describes the entity asked for
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from synth.pipelines.grammar import UNTYPED_NOUN, VERBS, category_of, period_years

_QUOTE = re.compile(r"[“\"]([^”\"]+)[”\"]")
_PLACEHOLDER = re.compile(r"\[([A-Z])\]")
_SPLIT = re.compile(r";\s*|,?\s+\b(?:where|here|and where)\b\s+|,\s+and\s+(?=\[)|\?\s*$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'+#/.-]*[A-Za-z0-9+#]|[A-Za-z0-9]")
# words that say how a question is put, not what it is about
STOP = frozenset("""
a an the and or of in on at to for from by with as is are was were be been being it its this that these those
which what who whom whose where when here there name named give identify find also such one own entry entries
term terms word words described describes description defined definition refers refer referring reads read
opens open mentions mention mentioning containing contains contain links link linked linking says say said
called known whose itself than then into about via per within whereas while has have had do does did not no
any some each every both can you either neither other another same their them they he she his her we you i me my our
""".split())  # noqa: SIM905 - a word list reads best as text


def words(text: str | None) -> list[str]:
    """Lower-cased content words, in order (duplicates kept)."""
    return [w.lower().strip(".'") for w in _WORD.findall(text or "") if w.lower().strip(".'") not in STOP]


def content_words(text: str | None) -> list[str]:
    return list(dict.fromkeys(w for w in words(text) if len(w) > 1 or w.isdigit()))


@dataclass
class Clue:
    index: int
    text: str                                   # the clause as the question puts it
    subject: str | None = None                  # the placeholder it describes ("A"), None for the answer / unknown
    refs: list[str] = field(default_factory=list)  # placeholders it refers to
    quotes: list[str] = field(default_factory=list)
    prefix: str | None = None                   # the entity's name begins with this
    kind: list[str] | None = None               # its type words, when the question's grammar says them
    period: tuple[int, int] | None = None       # "from the late 1960s": its entry mentions a year in this range
    noun: str | None = None                     # the type noun as the question writes it ("mathematical term")

    @property
    def keywords(self) -> list[str]:
        """Words to query with: the quoted text first, then the rest of the clause."""
        quoted = [w for q in self.quotes for w in content_words(q)]
        # a period ("from the early 2000s") is checked on the entry, never searched: BM25 knows no decades
        rest = content_words(_PERIOD_TEXT.sub(" ", _PLACEHOLDER.sub(" ", _QUOTE.sub(" ", self.text))))
        return list(dict.fromkeys(quoted + rest))

    @property
    def quote_words(self) -> list[str]:
        return list(dict.fromkeys(w for q in self.quotes for w in content_words(_PLACEHOLDER.sub(" ", q))))

    @property
    def descriptive(self) -> bool:
        """Enough of its own words to search for it without knowing another entity first."""
        return len(self.quote_words) >= 4 or (not self.refs and len(self.keywords) >= (3 if self.kind else 4))

    @property
    def short(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= 90 else text[:87].rsplit(" ", 1)[0] + "…"


def _clauses(question: str) -> list[str]:
    # protect quotes from the splitter (they may hold ';' or 'where')
    quotes: list[str] = []

    def hide(match: re.Match) -> str:
        quotes.append(match.group(0))
        return f"\x00{len(quotes) - 1}\x00"

    hidden = _QUOTE.sub(hide, question)
    parts = [p.strip(" ,.?") for p in _SPLIT.split(hidden) if p and p.strip(" ,.?")]
    return [re.sub(r"\x00(\d+)\x00", lambda m: quotes[int(m.group(1))], p) for p in parts]


# the realizer's verbs (pipelines/grammar.py), longest first so "was made for" wins over "uses"; a relation
# always follows "that" or "and" and is followed by a noun phrase (the opening gets its "that" in _OPENING)
_VERB_ALT = "|".join(re.escape(v) for v in sorted({v for vs in VERBS.values() for v in vs}, key=len, reverse=True))
_RELATION = re.compile(rf"\s*,?\s*\b(and that|and|that)\s+({_VERB_ALT})(?:\s+(?=(?:an?|the|that same)\b)|(?<=\bof)\s+)", re.IGNORECASE)
_OPENING = re.compile(rf"^(Which (?!is the\b)(?:(?!\bthat\b).)+?)\s+(?=(?:{_VERB_ALT})\s)", re.IGNORECASE)
_ASK = re.compile(r"^(?:which is the|which|can you name the|what is the|name the)\s+", re.IGNORECASE)
_PREFIX = re.compile(r"\s*(?:and\s+)?whose name begins with [“\"]([^”\"]+)[”\"]", re.IGNORECASE)
_PERIOD_TEXT = re.compile(r"\s*from the (?:early|mid-|late) ?\d{3,4}0s\b", re.IGNORECASE)
_SAME = re.compile(r"^that same (.+)$", re.IGNORECASE)


def _segments(question: str) -> tuple[list[str], list[str | None]]:
    """The noun phrases of the chain and the word joining each to the one before ("that", "and", "and that")."""
    text = _OPENING.sub(r"\1 that ", question.strip().rstrip("?"), count=1)
    segments, joins, at = [], [None], 0
    for m in _RELATION.finditer(text):
        segments.append(text[at:m.start()])
        joins.append(m.group(1).lower())
        at = m.end()
    segments.append(text[at:])
    return [s.strip(" ,") for s in segments], joins


def _parents(joins: list[str | None]) -> list[int | None]:
    """Which noun phrase each one hangs off: "… and has to do with Y" continues the clause of the entity
    before (the usual reading of such coordination); "that …" / "and that …" describe the phrase just before."""
    parents: list[int | None] = [None]
    for n in range(1, len(joins)):
        parents.append(parents[n - 1] if joins[n] == "and" and n > 1 else n - 1)
    return parents


def _describe(text: str) -> tuple[list[str], list[str], str | None, str]:
    """(type words, description, name prefix) of one noun phrase. The type words are the category the type
    noun stands for ("a mathematical term" -> mathematics); a phrase that is not a type noun is the entity's
    own (abstracted) definition, checked like quoted text."""
    prefix = _PREFIX.search(text)
    body = _PERIOD_TEXT.sub(" ", _PREFIX.sub(" ", text))
    body = " ".join(_ASK.sub("", body.strip()).split())
    kind_text, _, described = body.partition(" described as ")
    noun = re.sub(r"^(?:an?|the)\s+", "", kind_text.strip(" ,"), flags=re.IGNORECASE)
    category = category_of(noun)
    letters = prefix.group(1) if prefix else None
    if described or category is not None or noun.lower() in (UNTYPED_NOUN, "term"):
        return ([category] if category else []), ([described.strip(" ,")] if described else []), letters, noun
    return [], [body.strip(" ,")], letters, ""


def fluent_clues(question: str) -> list[Clue]:
    """Clues of a question written by the realizer's grammar (pipelines/grammar.py): one per entity of the
    relation chain, with its type (category), description, period and name prefix. "that same X" is an entity
    named before (a cycle): it adds a reference, not a clue."""
    segments, joins = _segments(question)
    parents = _parents(joins)
    alias: dict[int, int] = {}   # a "that same X" segment -> the segment that introduced X
    for n, text in enumerate(segments):
        same = _SAME.match(text)
        if same and n:
            noun = same.group(1).lower()
            earlier = [m for m in range(n) if m not in alias and noun in segments[m].lower()]
            alias[n] = earlier[-1] if earlier else 0
    kept = [n for n in range(len(segments)) if n not in alias]
    letter = {n: (chr(ord("A") + i - 1) if i else None) for i, n in enumerate(kept)}
    clues = []
    for i, n in enumerate(kept):
        refs = [letter[alias.get(m, m)] for m in range(len(segments)) if parents[m] == n]
        kind, described, prefix, noun = _describe(segments[n])
        text = _PREFIX.sub(" ", segments[n]).strip()
        clues.append(Clue(i, text, letter[n], [r for r in refs if r], described, prefix, kind,
                          period_years(segments[n]), noun))
    return clues


def parse_question(question: str) -> list[Clue]:
    if not _PLACEHOLDER.search(question):
        return fluent_clues(question)
    clues = []
    for i, text in enumerate(_clauses(question)):
        head = re.match(r"\s*(?:(?:and|here|where)\s+)*\[([A-Z])\]\s+(?:is|was|are)\b", text)
        subject = head.group(1) if head else None
        refs = [p for p in dict.fromkeys(_PLACEHOLDER.findall(text)) if p != subject]
        quotes = [q.strip(" ….") for q in _QUOTE.findall(text)]
        clues.append(Clue(i, text, subject, refs, [q for q in quotes if q]))
    if clues and clues[0].subject is not None:   # the question opens with the entity asked for
        clues.insert(0, Clue(0, "", None, [], []))
        for n, clue in enumerate(clues):
            clue.index = n
    return clues
