"""The verification gauntlet. Every check returns {"status": passed|failed|not_run, ...details}; the
first failure decides the task's reject reason (`FAILURE_REASON`).

    support      every quote is verbatim at its span; link facts are real links at their anchor;
                 the answer is the answer document's title
    no_leak      no content word (stemmed) of a name of the answer (title, aliases, abbreviation) or of
                 an intermediate entity's title appears in the question (tokens.py)
    uniqueness   exact constraint solving over the corpus (solve.py) with the certificate: the target's
                 most selective constraint, every candidate it admits, the constraint each one fails
    shortcut     (a) BM25 on the whole question, (b) on each clause, (c) exact phrases shared with the corpus
                 must find neither the answer document nor a hidden intermediate (check_shortcut)
    closed_book, tool_solver   teacher checks (teacher.py); `not_run` without a teacher, never faked
"""

from __future__ import annotations

import re

from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch import tokens as tk
from synth.pipelines.deepsearch.formal import Formal
from synth.pipelines.deepsearch.solve import MAX_LISTED, Checker, Solution, solve
from synth.pipelines.deepsearch.verbalize import strip_placeholders, type_nouns

FAILURE_REASON = {"support": "no_support", "uniqueness": "not_unique", "shortcut": "shortcut",
                  "closed_book": "solved_closed_book"}
NO_TEACHER = {"status": "not_run", "reason": "no teacher (--teacher none): a solver check needs a model"}


def check_support(kb, facts: list[dict], answer: str, answer_doc_id: str) -> dict:
    failures = []
    for i, fact in enumerate(facts):
        doc = kb.by_id(fact["doc_id"])
        if doc is None:
            failures.append({"fact": i, "problem": "document not found"})
        elif doc.text[fact["start"]:fact["end"]] != fact["quote"]:
            failures.append({"fact": i, "problem": "quote is not verbatim at its span"})
        elif fact.get("anchor_start") is not None and not _anchor_ok(kb, doc, fact):
            failures.append({"fact": i, "problem": "no link to the object at the anchor"})
    answer_doc = kb.by_id(answer_doc_id)
    if answer_doc is None or answer_doc.title != answer:
        failures.append({"fact": None, "problem": "the answer is not the answer document's title"})
    out = {"status": "failed" if failures else "passed", "facts_checked": len(facts), "failures": failures}
    if failures:
        out["detail"] = "; ".join(f"fact {f['fact']}: {f['problem']}" for f in failures)
    return out


def _anchor_ok(kb, doc, fact: dict) -> bool:
    a0, a1 = fact["anchor_start"], fact["anchor_end"]
    if not (fact["start"] <= a0 < a1 <= fact["end"]):
        return False
    target = kb.row(fact["object_id"])
    return any(l.start == a0 and l.end == a1 and l.dst_row == target for l in kb.links_from(doc.row))


def check_no_leak(kb, question: str, answer_row: int, other_rows: list[int]) -> dict:
    """Token leaks (tokens.py): failed with `reason` answer_leak (a content word of an answer name shows,
    stemmed) or entity_leak (one of a hidden intermediate's title)."""
    text = strip_placeholders(question)
    names = list(kb.names(answer_row))
    leaked = tk.leaked(text, names)
    if leaked:
        return {"status": "failed", "reason": "answer_leak", "detail": f"answer name word(s) in the question: {leaked}",
                "leaked": leaked, "names_checked": names}
    shown = {kb.doc(r).id: tk.leaked(text, [kb.doc(r).title]) for r in other_rows}
    shown = {k: v for k, v in shown.items() if v}
    if shown:
        return {"status": "failed", "reason": "entity_leak", "detail": f"intermediate name word(s) in the question: {shown}",
                "leaked": shown, "names_checked": names}
    return {"status": "passed", "names_checked": names, "intermediates_checked": sorted(kb.doc(r).id for r in other_rows)}


_CLAUSE = re.compile(r"[,;:?.()]|\s(?:that|which|who|whose|and)\s")
MIN_SPAN = 4


def _grammar_stems() -> set[str]:
    """Stems of the words the realizer itself writes (verbs of relations, "described as", "whose name
    begins with", periods, openings): a clause made only of these says nothing an agent could search."""
    from synth.pipelines.deepsearch.relations import VERBS

    words = " ".join(v for verbs in VERBS.values() for v in verbs)
    words += " which name identify described begins early mid late kind type dates from "
    words += " ".join(noun for noun in type_nouns().values())
    return tk.content_stems(words) | {tk.stem(w) for w in tk.tokens(words)}


def clauses(question: str) -> list[str]:
    """The question cut at punctuation and relative pronouns: what an agent might search for alone;
    clauses with nothing but the realizer's own grammar words ("is associated with a tool") are left out."""
    grammar = _grammar_stems()
    out = []
    for c in _CLAUSE.split(strip_placeholders(question)):
        stems = {s for s in tk.content_stems(c) if not re.fullmatch(r"\d{4}s?", s)}
        if stems - grammar:
            out.append(c.strip())
    return out


def shared_spans(kb, question: str, limit: int = 50) -> list[tuple[str, tuple[int, ...]]]:
    """Maximal spans of MIN_SPAN+ words of the question that occur verbatim in the corpus, with the
    documents containing them (at most `limit`+1 listed): what one exact-phrase search finds."""
    words = tx.normalize(strip_placeholders(question)).replace("“", " ").replace("”", " ").split()
    words = [w.strip(",.;:?!()\"") for w in words]
    out, i = [], 0
    while i + MIN_SPAN <= len(words):
        j, found = i + MIN_SPAN, None
        while j <= len(words):
            span = words[i:j]
            if len(tx.content_words(" ".join(span))) < 2:
                j += 1
                continue
            hits = kb.phrases.find(" ".join(span), limit=limit)
            if not hits.rows:
                break
            found = (" ".join(span), hits.rows)
            j += 1
        if found:
            out.append(found)
            i = j - 1
        else:
            i += 1
    return out


def check_shortcut(kb, question: str, answer_doc_id: str, k: int, hidden: dict[str, str] | None = None) -> dict:
    """The three shortcuts an agent has (issue 20 point 3): (a) BM25 on the whole question, (b) BM25 on
    each clause alone, (c) exact-phrase search for every span of MIN_SPAN+ words the question shares
    with the corpus. None may find the answer document (rank <= k, or a unique exact-phrase hit); none
    may find a `hidden` intermediate (doc id -> variable; the leaves, the chain's entry points, are not
    in it) in one step."""
    hidden = hidden or {}
    targets = {answer_doc_id: "answer", **hidden}
    hits: list[dict] = []
    rank, top = kb.bm25_rank(strip_placeholders(question), answer_doc_id, k)
    if rank is not None:
        hits.append({"kind": "whole_question", "entity": "answer", "rank": rank})
    for clause in clauses(question):
        for doc_id, who in targets.items():
            r, _ = kb.bm25_rank(clause, doc_id, k)
            if r is not None:
                hits.append({"kind": "clause", "entity": who, "rank": r, "text": clause})
    for span, rows in shared_spans(kb, question):
        if len(rows) == 1 and kb.doc(rows[0]).id in targets:
            hits.append({"kind": "exact_phrase", "entity": targets[kb.doc(rows[0]).id], "text": span})
    out = {"status": "failed" if hits else "passed", "k": k, "answer_rank": rank, "top": top, "hits": hits,
           "kinds": sorted({h["kind"] for h in hits})}
    if hits:
        out["detail"] = "; ".join(f"{h['kind']} finds the {h['entity']}" + (f" ({h['text']!r})" if "text" in h else "")
                                  for h in hits[:3])
    return out


def dropped_constraints(formal: Formal, question: str) -> list[str]:
    """Constraints a rewritten question no longer states (checked on words: a description's content
    words, a partial name's letters, a period's decade); the uniqueness proof needs every one of them."""
    shown = {tk.stem(t) for t in tk.tokens(question)}
    missing = []
    for c in formal.constraints:
        const = formal.constants.get(c.constant) if c.constant else None
        if c.kind == "description" and not all(tk.stem(w) in shown for w in const.words) or c.kind == "partial" and f"“{const.letters}”" not in question and f'"{const.letters}"' not in question or c.kind == "period" and str(const.years[0] - const.years[0] % 10) not in question:
            missing.append(c.id)
    return missing


def certificate(kb, formal: Formal, solution: Solution) -> dict:
    """The uniqueness certificate for the target (see module docstring)."""
    checker, target = Checker(kb, formal), formal.target
    links = [c for c in formal.links() if c.subject == target]
    pools = {c.id: checker.subjects(c, solution.domains[c.object] or set()) for c in links}
    best = min(links, key=lambda c: (len(pools[c.id]), c.id))
    survivors = set(solution.targets)
    listed = []
    for row in sorted(pools[best.id], key=lambda r: (r not in survivors, r)):
        failed = checker.unary_ok(target, row) or next(
            (c.id for c in links if c is not best and row not in pools[c.id]), None)
        if failed is None and row not in survivors:
            failed = "joint"  # passes each constraint alone, but no complete assignment exists
        if len(listed) < MAX_LISTED or failed is None:
            listed.append({"doc_id": kb.doc(row).id, "survives": failed is None, "failed": failed})
    admitted = {c.id: len(pools[c.id]) for c in links}
    for c in formal.of(target, "type"):
        admitted[c.id] = kb.category_size(c.value)
    return {
        "most_selective": best.id, "candidates_total": len(pools[best.id]), "candidates": listed,
        "admitted": dict(sorted(admitted.items())),
        "survivors": [kb.doc(r).id for r in sorted(survivors)],
        "domains": {v: (len(d) if d is not None else None) for v, d in solution.domains.items()},
        "exhaustive": solution.exhaustive and not solution.budget_exceeded,
    }


def check_uniqueness(kb, formal: Formal) -> tuple[dict, Solution]:
    solution = solve(kb, formal)
    answer = formal.variables[formal.target]
    if solution.notes or solution.budget_exceeded:
        detail = "; ".join(solution.notes) or "search budget exceeded"
        return {"status": "failed", "reason": "not_unique", "detail": detail,
                "domains": {v: (len(d) if d is not None else None) for v, d in solution.domains.items()}}, solution
    cert = certificate(kb, formal, solution)
    if solution.targets == [answer]:
        return {"status": "passed", "certificate": cert}, solution
    reason = "unsatisfiable" if answer not in solution.targets else "not_unique"
    detail = f"{len(cert['survivors'])} candidates satisfy every constraint: {cert['survivors'][:5]}"
    return {"status": "failed", "reason": reason, "detail": detail, "certificate": cert}, solution
