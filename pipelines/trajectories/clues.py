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
any some each every both either neither other another same their them they he she his her we you i me my our
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

    @property
    def keywords(self) -> list[str]:
        """Words to query with: the quoted text first, then the rest of the clause."""
        quoted = [w for q in self.quotes for w in content_words(q)]
        rest = content_words(_PLACEHOLDER.sub(" ", _QUOTE.sub(" ", self.text)))
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


# relations a fluent question chains its entities with ("X that is connected with Y described as …")
_RELATION = re.compile(r"\s*(?:,\s*)?\b(?:(and)\s+)?(that\s+|which\s+)?(?:is\s+|are\s+|was\s+)?"
                       r"(connected with|associated with|related to|has to do with|makes use of|uses|is a kind of|"
                       r"a kind of|based on|created by|part of|runs on|successor of|predecessor of|comes from)\s+",
                       re.IGNORECASE)
_PREFIX = re.compile(r"whose name begins with [“\"]([^”\"]+)[”\"]", re.IGNORECASE)


def fluent_clues(question: str) -> list[Clue]:
    """Clues of a question without placeholders: one per entity of the relation chain. An entity that follows
    "and …" is taken to hang off the same entity as the one before it (the usual reading of such coordination);
    the others are referred to by the entity just before them. A name prefix ("whose name begins with “de”")
    is a constraint of its own, not quoted text."""
    parts = _RELATION.split(question.strip().rstrip("?"))
    segments, joins = [parts[0]], [(None, None)]
    for n in range(1, len(parts) - 3, 4):
        joins.append((parts[n], parts[n + 1]))
        segments.append(parts[n + 3])
    letters = [chr(ord("A") + n - 1) if n else None for n in range(len(segments))]
    parents: list[int | None] = [None]
    for n in range(1, len(segments)):
        coordinated, relative = joins[n]
        # "… and has to do with Y" continues the clause of the entity before; "… and that …" describes it
        parents.append(parents[n - 1] if coordinated and not relative and n > 1 else n - 1)
    clues = []
    for n, text in enumerate(segments):
        prefix = _PREFIX.search(text)
        refs = [letters[m] for m in range(len(segments)) if parents[m] == n]
        head = re.split(r"\s(?:described as|from|whose|one|that|which)\s|,", _PREFIX.sub(" ", text))[0]
        kind = [w for w in content_words(head) if w not in _NOT_KIND and not re.fullmatch(r"\d+s?", w)]
        described = re.search(r"\bdescribed as (.+)", _PREFIX.sub(" ", text))   # the entry's own definition, abstracted
        clues.append(Clue(n, _PREFIX.sub(" ", text).strip(), letters[n], refs,
                          [described.group(1).strip(" ,")] if described else [],
                          prefix.group(1) if prefix else None, kind))
    return clues


_NOT_KIND = frozenset(["can", "you", "name", "term", "early", "late", "mid"])
STOP = STOP | {"can", "you"}


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
