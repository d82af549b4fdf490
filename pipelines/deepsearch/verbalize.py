"""Realization without placeholders (`--teacher none`, issue 20 point 1): a formal question -> English.

A small grammar over the formal object, no templates with slots for quotes:

    Q      -> "Which" TYPE PERIOD? REL ("and" REL)* "?"   (or "Name the" / "What is the" ... variants)
    NP(v)  -> LEAF(v) | "a" TYPE(v) PERIOD(v)? "that" REL(v) ("and" REL(v))* NAME(v)?
    LEAF   -> the abstract description (abstract.py) [", a TYPE,"] PERIOD? NAME?
    REL    -> VERB(relation) NP(object)        typed verbs per relation (relations.VERBS)
    PERIOD -> "from the late 1960s"            NAME -> "whose name begins with “Sm”"

Intermediate entities are nested noun phrases with relative clauses ("a tool that was developed at a
company from the early 1980s whose name begins with “Sy”"), never [A]/[B] placeholders, never "entry"
meta-talk, never a quoted fragment. The seeded RNG picks verbs and openings, so a seed gives one text.
"""

from __future__ import annotations

import random
import re

from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch.formal import Constraint, Formal
from synth.pipelines.grammar import RELATED, VERBS, type_noun, type_nouns  # noqa: F401 - re-exported

PLACEHOLDER = re.compile(r"\[[A-Z]\]")
OPENINGS = ("Which {type}{period} {rels}?", "Can you name the {type}{period} that {rels}?",
            "What is the {type}{period} that {rels}?", "Which is the {type}{period} that {rels}?")


def _a(noun: str) -> str:
    return f"{tx.article(noun)} {noun}"


class Realizer:
    def __init__(self, formal: Formal, rng: random.Random):
        self.formal, self.rng = formal, rng
        self.said: set[str] = set()  # variables already described (a cycle reaches one twice)

    def _const(self, var: str, kind: str):
        c = next(iter(self.formal.of(var, kind)), None)
        return self.formal.constants[c.constant] if c else None

    def period(self, var: str) -> str:
        p = self._const(var, "period")
        return f" from {p.text}" if p else ""

    def name(self, var: str) -> str:
        p = self._const(var, "partial")
        return f" whose name begins with “{p.letters}”" if p else ""

    def rel(self, c: Constraint) -> str:
        verb = self.rng.choice(VERBS.get(c.value or RELATED, VERBS[RELATED]))
        np = self.np(c.object)
        if verb.startswith("is a ") and verb.endswith(" of") and re.match(r"(?:a|an) ", np):
            np = np.split(" ", 1)[1]  # "a kind of a language" -> "a kind of language"
        return f"{verb} {np}"

    def rels(self, var: str) -> str:
        links = [c for c in self.formal.links() if c.subject == var]
        # an object with relations of its own goes last: "… and V2 NP2" after a nested clause would read as
        # part of that clause (the reader's rule, trajectories/clues.py: "and V" continues the clause before)
        nested = {c.subject for c in self.formal.links()}
        links.sort(key=lambda c: c.object in nested and c.object not in self.said)
        return " and ".join(self.rel(c) for c in links)

    def np(self, var: str) -> str:
        """The noun phrase that describes `var` without naming it."""
        noun = type_noun(self.formal.types[var])
        if var in self.said:
            return f"that same {noun}"
        self.said.add(var)
        desc = self._const(var, "description")
        name = self.name(var)
        if desc is not None:
            head = desc.text
            # compared as words: "an organisation, one devoted to …" already says "organisation"
            if self.formal.types[var] and noun.split()[-1].lower() not in tx.words(desc.text.lower()):
                head = f"{_a(noun)} described as {head}"
            core = head + self.period(var) + name
            if any(c.subject == var for c in self.formal.links()):
                core += f" and that {self.rels(var)}"
            return core
        return f"{_a(noun)}{self.period(var)}{name}{' and' if name else ''} that {self.rels(var)}"

    def question(self) -> str:
        target = self.formal.target
        opening = self.rng.choice(OPENINGS)
        text = opening.format(type=type_noun(self.formal.types[target]), period=self.period(target),
                              rels=self.rels(target))
        return tidy(text)


def tidy(text: str) -> str:
    text = re.sub(r",\s*(?=[,.?])", "", text)           # ", ," / ",?" left by optional parts
    text = re.sub(r",\s+(and|that)\b", r" \1", text)    # "…“Sm”, and that" reads better without the comma
    return re.sub(r"\s+", " ", text).strip()


def verbalize(formal: Formal, rng: random.Random) -> str:
    """The question text for a formal question."""
    return Realizer(formal, rng).question()


def strip_placeholders(question: str) -> str:
    """The question without [A]-style placeholders (kept for LLM rewrites that bring some back)."""
    return PLACEHOLDER.sub(" ", question)
