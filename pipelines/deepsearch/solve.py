"""Exact evaluation of a formal question over the whole corpus: domains, solutions, the uniqueness certificate.

Each constraint is a predicate over documents (see formal.py). Domains start from the descriptions
(every document containing the abstract description's content words: the rarest word by exact phrase
search, the rest checked per document), then link constraints propagate them to a fixpoint (arc
consistency: "subjects with a link of the relation's type to some object in the object's domain", and
back). Propagation alone is exact on trees; for
cycles, and to keep entities distinct, a backtracking search then enumerates the target values that
have a complete solution. The certificate follows the issue's recipe: the target's most selective
constraint gives the candidates, every candidate is checked against the other constraints, and the
task is kept only if exactly one survives; each eliminated candidate names the constraint it failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from synth.pipelines.deepsearch import relations as rel
from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch.formal import Constraint, Formal

MAX_LISTED = 40          # candidates listed in the certificate (all are checked)
SEARCH_BUDGET = 200_000  # backtracking nodes before the search gives up (status failed, not_unique)
MAX_DOMAIN = 2_000       # a variable that admits more documents makes the question too vague: not_unique


def doc_words(kb, row: int) -> frozenset:
    """The lower-case words of an entry (title included), cached per document."""
    return kb.cache("doc_words").get_or(row, lambda: frozenset(tx.words(kb.doc(row).title + " " + kb.doc(row).text)))


class Checker:
    """Predicates of one formal question's constraints."""

    def __init__(self, kb, formal: Formal):
        self.kb, self.formal = kb, formal

    def unary_ok(self, var: str, row: int) -> str | None:
        """The id of the first unary constraint `row` fails as `var`, else None."""
        doc = self.kb.doc(row)
        if doc.is_redirect:
            return "article"
        for c in self.formal.constraints:
            if c.subject != var:
                continue
            if c.kind == "type" and c.value not in doc.categories:
                return c.id
            if c.kind in ("description", "period", "partial") and not self.attribute_ok(c, row):
                return c.id
        return None

    def attribute_ok(self, c: Constraint, row: int) -> bool:
        const = self.formal.constants[c.constant]
        if c.kind == "description":
            return all(w in doc_words(self.kb, row) for w in const.words)
        if c.kind == "period":
            year = rel.year_of(self.kb, row)
            return year is not None and const.years[0] <= year <= const.years[1]
        return self.kb.doc(row).title[: len(const.letters)].lower() == const.letters.lower()

    def link_matches(self, c: Constraint, link) -> bool:
        if c.value in (None, rel.RELATED):
            return True  # "S's entry refers to O": any link will do
        return rel.relation_of(self.kb, link) == c.value

    def subjects(self, c: Constraint, objects: set[int]) -> set[int]:
        return {l.src_row for o in objects for l in self.kb.links_to(o) if self.link_matches(c, l)}

    def objects(self, c: Constraint, subjects: set[int]) -> set[int]:
        return {l.dst_row for s in subjects for l in self.kb.links_from(s) if self.link_matches(c, l)}

    def pair_ok(self, c: Constraint, s: int, o: int) -> bool:
        return any(l.dst_row == o and self.link_matches(c, l) for l in self.kb.links_from(s))


@dataclass
class Solution:
    domains: dict[str, set[int] | None]
    targets: list[int]                       # target values with a complete solution
    exhaustive: bool
    budget_exceeded: bool = False
    notes: list[str] = field(default_factory=list)


class TooVague(Exception):
    """A domain grew past MAX_DOMAIN: bounded work and memory per task, and such a question is vague."""


def _initial(kb, checker: Checker, formal: Formal) -> tuple[dict[str, set[int] | None], bool]:
    domains: dict[str, set[int] | None] = {v: None for v in formal.variables}
    exhaustive = True
    for c in formal.constraints:
        if c.kind != "description":
            continue
        words = formal.constants[c.constant].words
        rarest = min(words, key=lambda w: (_word_count(kb, w), w))
        hits = kb.phrases.find(rarest, limit=MAX_DOMAIN)
        if hits.truncated:
            raise TooVague  # a description this common identifies nothing
        exhaustive &= hits.exhaustive
        rows = {r for r in hits.rows if checker.unary_ok(c.subject, r) is None}
        domains[c.subject] = rows if domains[c.subject] is None else domains[c.subject] & rows
    return domains, exhaustive


def _word_count(kb, word: str) -> int:
    """How many documents contain `word` as a substring (capped): the substring hits are a complete
    superset of the documents with the word, which the per-document word check then makes exact."""
    return kb.cache("word_count").get_or(word, lambda: len(kb.phrases.find(word, limit=MAX_DOMAIN).rows))


def propagate(kb, formal: Formal, checker: Checker) -> tuple[dict[str, set[int] | None], bool]:
    domains, exhaustive = _initial(kb, checker, formal)
    changed = True
    while changed:
        changed = False
        if any(d is not None and len(d) > MAX_DOMAIN for d in domains.values()):
            raise TooVague
        for c in formal.links():
            s, o = c.subject, c.object
            if domains[o] is not None:
                cand = {r for r in checker.subjects(c, domains[o]) if checker.unary_ok(s, r) is None}
                new = cand if domains[s] is None else domains[s] & cand
                if new != domains[s]:
                    domains[s], changed = new, True
            if domains[s] is not None:
                cand = {r for r in checker.objects(c, domains[s]) if checker.unary_ok(o, r) is None}
                new = cand if domains[o] is None else domains[o] & cand
                if new != domains[o]:
                    domains[o], changed = new, True
    return domains, exhaustive


def _consistent(checker: Checker, formal: Formal, var: str, row: int, assigned: dict[str, int]) -> bool:
    if row in assigned.values():
        return False  # distinct variables are distinct entities
    for c in formal.links():
        if c.subject == var and c.object in assigned and not checker.pair_ok(c, row, assigned[c.object]):
            return False
        if c.object == var and c.subject in assigned and not checker.pair_ok(c, assigned[c.subject], row):
            return False
    return True


def _extend(checker, formal, order, domains, assigned, budget) -> bool:
    if len(assigned) == len(order):
        return True
    var = order[len(assigned)]
    for row in sorted(domains[var]):
        budget[0] -= 1
        if budget[0] < 0:
            raise TimeoutError
        if _consistent(checker, formal, var, row, assigned):
            assigned[var] = row
            if _extend(checker, formal, order, domains, assigned, budget):
                del assigned[var]
                return True
            del assigned[var]
    return False


def has_solution(checker: Checker, formal: Formal, domains: dict, fixed: dict[str, int], budget: list[int]) -> bool:
    depths = formal.depths()
    order = list(fixed) + sorted((v for v in formal.variables if v not in fixed), key=lambda v: (depths[v], v))
    return _extend(checker, formal, order, domains, dict(fixed), budget)


def solve(kb, formal: Formal) -> Solution:
    checker = Checker(kb, formal)
    try:
        domains, exhaustive = propagate(kb, formal, checker)
    except TooVague:
        return Solution({v: None for v in formal.variables}, [], True,
                        notes=[f"a variable admits more than {MAX_DOMAIN} documents"])
    unbounded = [v for v, d in domains.items() if d is None]
    if unbounded:
        return Solution(domains, [], exhaustive, notes=[f"unbounded: {', '.join(unbounded)}"])
    budget = [SEARCH_BUDGET]
    targets = []
    try:
        for row in sorted(domains[formal.target]):
            if has_solution(checker, formal, domains, {formal.target: row}, budget):
                targets.append(row)
    except TimeoutError:
        return Solution(domains, targets, exhaustive, budget_exceeded=True)
    return Solution(domains, targets, exhaustive)
