"""Extractors for task-like kinds: deepsearch_task and code_problem (see synth/report/spec.py)."""

from __future__ import annotations

from synth.report.spec import (
    CLASSES,
    STATUSES,
    TIERS,
    TOPOLOGIES,
    Obs,
    as_dict,
    as_list,
    cat,
    matrix,
    num,
    provenance,
)

# -- deepsearch_task ------------------------------------------------------------------------------------
D_TIER = cat("tier", "difficulty tier", order=TIERS)
D_TOPO = cat("topology", "topology", order=TOPOLOGIES)
D_HOPS = num("hops", "hops")
D_FACTS = num("facts", "facts per task")
D_DOCS = num("docs", "distinct documents per task")
D_VERIFY = matrix("verification", "verification checks", per="check", order=STATUSES)
D_PASS = num("pass_rate", "solver pass rate", ratio=True)
D_OPS = cat("operators", "obfuscation operators", per="operator")
D_NOPS = num("n_operators", "operators per task")
D_REL = cat("relations", "fact relations", per="fact")
D_CATEGORY = cat("category", "category")
D_QCHARS = num("question_chars", "question length (chars)")
D_EDITS = num("edits", "edits per task")


def deepsearch_task(r: dict) -> Obs:
    if r.get("tier") is not None:
        yield D_TIER, r["tier"]
    if r.get("topology") is not None:
        yield D_TOPO, r["topology"]
    if r.get("hops") is not None:
        yield D_HOPS, r["hops"]
    facts = [as_dict(f) for f in as_list(r.get("facts"))]
    if facts:
        yield D_FACTS, len(facts)
        yield D_DOCS, len({f.get("doc_id") for f in facts if f.get("doc_id") is not None})
    for fact in facts:
        if fact.get("relation"):
            yield D_REL, fact["relation"]
    for check, result in as_dict(r.get("verification")).items():
        yield D_VERIFY, (check, as_dict(result).get("status", result if isinstance(result, str) else None))
    if r.get("pass_rate") is not None:
        yield D_PASS, r["pass_rate"]
    ops = as_list(r.get("operators"))
    if r.get("operators") is not None:
        yield D_NOPS, len(ops)
    for op in ops:
        yield D_OPS, as_dict(op).get("op")
    if r.get("category"):
        yield D_CATEGORY, r["category"]
    if isinstance(r.get("question"), str):
        yield D_QCHARS, len(r["question"])
    if r.get("edit_history") is not None:
        yield D_EDITS, len(as_list(r.get("edit_history")))
    yield from provenance(r)


# -- code_problem ---------------------------------------------------------------------------------------
C_STYLE = cat("style", "style")
C_CLASS = cat("complexity", "measured complexity class", order=(*CLASSES, "(unfitted)"))
C_DECLARED = matrix("complexity_vs", "declared/predicted → measured class", order=(*CLASSES, "(unfitted)"))
C_STATUS = cat("complexity_status", "complexity measurement status")
C_MUTATION = num("mutation_score", "mutation score", ratio=True)
C_TESTS = num("tests", "tests per problem")
C_GENERATOR = cat("generator", "input generator")
C_LINES = num("solution_lines", "reference solution lines")
C_PROMPT = num("prompt_chars", "prompt length (chars)")


def code_problem(r: dict) -> Obs:
    if r.get("style") is not None:
        yield C_STYLE, r["style"]
    if r.get("complexity") is not None:
        cx = as_dict(r.get("complexity"))
        measured = cx.get("class") or "(unfitted)"
        yield C_CLASS, measured
        if cx.get("status"):
            yield C_STATUS, cx["status"]
        expected = cx.get("declared") or cx.get("predicted")
        if isinstance(expected, str):
            yield C_DECLARED, (expected, measured)
    if r.get("mutation_score") is not None:
        yield C_MUTATION, r["mutation_score"]
    if isinstance(r.get("tests"), list):
        yield C_TESTS, len(r["tests"])
    yield C_GENERATOR, "present" if r.get("generator") else "none"
    if isinstance(r.get("reference_solution"), str):
        yield C_LINES, len(r["reference_solution"].splitlines())
    if isinstance(r.get("prompt"), str):
        yield C_PROMPT, len(r["prompt"])
    yield from provenance(r)
