"""The verification gauntlet. Every check returns {"status": passed|failed|not_run, ...details}; the
first failure decides the task's reject reason (`FAILURE_REASON`).

    support      every quote is verbatim at its span; link facts are real links at their anchor;
                 the answer is the answer document's title
    no_leak      no name of the answer (title, aliases, abbreviation) and no name of an intermediate
                 entity appears in the question
    uniqueness   exact constraint solving over the corpus (solve.py) with the certificate: the target's
                 most selective constraint, every candidate it admits, the constraint each one fails
    shortcut     one BM25 query with the whole question must not put the answer document in the top k
    closed_book, tool_solver   teacher checks (teacher.py); `not_run` without a teacher, never faked
"""

from __future__ import annotations

from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch.formal import Formal
from synth.pipelines.deepsearch.solve import MAX_LISTED, Checker, Solution, solve
from synth.pipelines.deepsearch.verbalize import strip_placeholders

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
    """Failed with `reason` answer_leak (an answer name shows) or entity_leak (an intermediate's does)."""
    text = strip_placeholders(question)
    names = list(kb.names(answer_row))
    leaked = [n for n in names if tx.mentions(text, n)]
    if leaked:
        return {"status": "failed", "reason": "answer_leak", "detail": f"answer name(s) in the question: {leaked}",
                "leaked": leaked, "names_checked": names}
    hidden = {kb.doc(r).id: list(kb.names(r)) for r in other_rows}
    shown = {doc_id: [n for n in ns if tx.mentions(text, n)] for doc_id, ns in hidden.items()}
    shown = {k: v for k, v in shown.items() if v}
    if shown:
        return {"status": "failed", "reason": "entity_leak", "detail": f"intermediate name(s) in the question: {shown}",
                "leaked": shown, "names_checked": names}
    return {"status": "passed", "names_checked": names, "intermediates_checked": sorted(hidden)}


def check_shortcut(kb, question: str, answer_doc_id: str, k: int, cues: list[tuple[str, str, str]] = ()) -> dict:
    """BM25 with the whole question must not rank the answer document in the top k; and no cue alone
    (the words around a link, taken from the subject's own entry) may rank its subject in the top k,
    or a solver could jump to that entity without the hops below it. `cues`: (constraint id, cue text,
    subject doc id)."""
    rank, top = kb.bm25_rank(strip_placeholders(question), answer_doc_id, k)
    cue_hits = []
    for cid, text, subject in cues:
        cue_rank, _ = kb.bm25_rank(strip_placeholders(text).replace("…", " "), subject, k)
        if cue_rank is not None:
            cue_hits.append({"constraint": cid, "rank": cue_rank})
    out = {"status": "failed" if rank is not None or cue_hits else "passed", "k": k, "answer_rank": rank,
           "top": top, "cue_shortcuts": cue_hits}
    if rank is not None:
        out["detail"] = f"BM25 ranks the answer document #{rank} for the whole question"
    elif cue_hits:
        out["detail"] = f"a cue alone finds its entity: {cue_hits}"
    return out


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
