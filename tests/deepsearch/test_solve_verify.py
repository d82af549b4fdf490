"""Uniqueness by exact constraint solving (with the certificate), and the rule checks, on the mini corpus."""

from __future__ import annotations

import random

from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch import verify as vf
from synth.pipelines.deepsearch.abstract import Abstract
from synth.pipelines.deepsearch.facts import describe, edges_from
from synth.pipelines.deepsearch.formal import Constraint, Formal, build_formal, structure_errors
from synth.pipelines.deepsearch.seeds import SeedPolicy, plan_seeds
from synth.pipelines.deepsearch.task import facts_of
from synth.pipelines.deepsearch.walk import Walk, WalkConfig, _diamond


def edge(kb, src: str, dst: str):
    return next(e for e in edges_from(kb, kb.row(src)) if e.dst == kb.row(dst))


def plain_formal(kb, links: dict[str, str]) -> Formal:
    """X = Zorblang (type language) linked, without cues, to described leaves A, B, ... (`links`: var -> id)."""
    rows = {"X": kb.row("zorblang"), **{v: kb.row(i) for v, i in links.items()}}
    formal = Formal("X", rows, {"X": "language"})
    formal.constraints.append(Constraint("tX", "type", "X", value="language"))
    for i, (var, doc_id) in enumerate(links.items(), start=1):
        formal.constraints.append(Constraint(f"l{i}", "link", "X", var, edge=edge(kb, "zorblang", doc_id)))
        desc = describe(kb, kb.row(doc_id))
        formal.constants[f"desc{var}"] = Abstract(desc.quote, sorted(set(tx.content_words(desc.quote))))
        formal.constraints.append(Constraint(f"d{var}", "description", var, constant=f"desc{var}", edge=desc))
    return formal


def test_ambiguous_question_is_rejected_with_a_certificate_naming_every_candidate(mini_kb):
    formal = plain_formal(mini_kb, {"A": "kovac", "B": "quux"})
    result, _ = vf.check_uniqueness(mini_kb, formal)
    cert = result["certificate"]
    assert result["status"] == "failed" and result["reason"] == "not_unique"
    assert cert["survivors"] == ["zorblang", "blorptalk"] or sorted(cert["survivors"]) == ["blorptalk", "zorblang"]
    # "mentions Mira Kovac" admits three languages, "mentions Quux" three entries (one is a debugger)
    assert cert["admitted"] == {"l1": 3, "l2": 3, "tX": 3}
    listed = {c["doc_id"]: c["failed"] for c in cert["candidates"]}
    assert cert["most_selective"] == "l1" and listed == {"zorblang": None, "blorptalk": None, "grob": "l2"}
    assert cert["exhaustive"] is True


def test_one_more_constraint_makes_it_unique_and_the_certificate_says_why(mini_kb):
    formal = plain_formal(mini_kb, {"A": "kovac", "B": "quux", "C": "frobnitz"})
    result, solution = vf.check_uniqueness(mini_kb, formal)
    assert result["status"] == "passed" and result["certificate"]["survivors"] == ["zorblang"]
    assert result["certificate"]["most_selective"] == "l3" and solution.domains["B"] == {mini_kb.row("quux")}


def test_a_type_constraint_eliminates_candidates_by_name(mini_kb):
    formal = plain_formal(mini_kb, {"B": "quux"})
    cert = vf.check_uniqueness(mini_kb, formal)[0]["certificate"]
    assert {c["doc_id"]: c["failed"] for c in cert["candidates"]}["snorkel"] == "tX"


def test_a_diamond_walk_is_a_cycle_that_keeps_depths(mini_kb):
    kb = mini_kb
    walk = Walk([kb.row("zorblang"), kb.row("kovac"), kb.row("hlab")],
                [edge(kb, "zorblang", "kovac"), edge(kb, "kovac", "hlab")])
    pair = _diamond(kb, random.Random(0), walk, WalkConfig())
    assert [(kb.doc(e.src).id, kb.doc(e.dst).id) for e in pair] == [("zorblang", "quux"), ("quux", "hlab")]
    walk.edges += pair
    walk.nodes.append(pair[0].dst)
    assert walk.topology == "cycle" and walk.depth == 2
    formal, logs = build_formal(kb, walk, random.Random(1))
    assert structure_errors(formal, 2) == []
    assert [c.subject for c in formal.constraints if c.kind == "description"] == ["C"]  # one leaf, two paths
    result, _ = vf.check_uniqueness(kb, formal)
    assert result["status"] == "passed"
    # descriptions are logged operators; the leaf's year became a period
    assert any(op["op"] == "describe" for op in logs) and any(op["op"] == "period" for op in logs)


def test_structure_rules():
    formal = Formal("X", {"X": 0, "A": 1}, {})
    formal.constraints.append(Constraint("dX", "description", "X", constant="c"))
    errors = structure_errors(formal, 2)
    assert any("target" in e for e in errors) and any("not connected" in e for e in errors)


def test_support_checks_quotes_anchors_and_the_answer(mini_kb):
    formal = plain_formal(mini_kb, {"A": "kovac"})
    facts = facts_of(mini_kb, formal)
    assert [f["kind"] for f in facts] == ["description", "link"]
    assert vf.check_support(mini_kb, facts, "Zorblang", "zorblang")["status"] == "passed"
    shifted = [dict(facts[0], start=facts[0]["start"] + 1)] + facts[1:]
    assert "not verbatim" in vf.check_support(mini_kb, shifted, "Zorblang", "zorblang")["detail"]
    wrong_object = facts[:1] + [dict(facts[1], object_id="grob")]
    assert "no link" in vf.check_support(mini_kb, wrong_object, "Zorblang", "zorblang")["detail"]
    assert vf.check_support(mini_kb, facts, "Grob", "zorblang")["status"] == "failed"


def test_no_leak_covers_aliases_abbreviations_and_intermediates(mini_kb):
    z, k, q = mini_kb.row("zorblang"), mini_kb.row("kovac"), mini_kb.row("quux")
    assert vf.check_no_leak(mini_kb, "Which language is also called ZBL?", z, [k])["reason"] == "answer_leak"
    assert vf.check_no_leak(mini_kb, "Which language did Mira Kovac design?", z, [k])["reason"] == "entity_leak"
    # tokens, not strings: one word of the name is enough ("Kovac's" stems to "kovac"); generic type nouns are not
    assert vf.check_no_leak(mini_kb, "Which language did Kovac's team design?", z, [k])["reason"] == "entity_leak"
    assert vf.check_no_leak(mini_kb, "Which language targets the Quuxes?", z, [q])["reason"] == "entity_leak"
    assert vf.check_no_leak(mini_kb, "Which language runs on a machine?", z, [q])["status"] == "passed"
    assert vf.check_no_leak(mini_kb, "Which language did a person design?", z, [k])["status"] == "passed"


def test_shortcut_check_covers_whole_question_clauses_and_exact_phrases(mini_kb):
    own_words = "functional programming language compile Quux virtual machine Frobnitz garbage collector"
    found = vf.check_shortcut(mini_kb, own_words, "zorblang", 2)
    assert found["answer_rank"] == 1 and "whole_question" in found["kinds"]
    # one clause alone finds a hidden intermediate (the debugger), though the whole question is vague
    q = "Which language is associated with a tool, an interactive debugging tool with reversible stepping?"
    found = vf.check_shortcut(mini_kb, q, "zorblang", 1, {"snorkel": "A"})
    assert "clause" in found["kinds"] and any(h["entity"] == "A" for h in found["hits"])
    # a 4+ word span only the answer's entry contains is an exact-phrase shortcut
    q = "Which thing uses the Frobnitz garbage collector?"
    found = vf.check_shortcut(mini_kb, q, "zorblang", 0)
    assert found["kinds"] == ["exact_phrase"] and found["hits"][0]["entity"] == "answer"
    assert vf.check_shortcut(mini_kb, "Which reptile is a kind of bird?", "zorblang", 1, {"snorkel": "A"})["status"] == "passed"


def test_seed_plan_window_rarity_and_category_balance(mini_kb):
    plan, stats = plan_seeds(mini_kb, SeedPolicy(since="2025-01-01"), 0)
    assert plan == ["zorblang"] and stats["excluded"]["before_since"] == 8
    plan, _ = plan_seeds(mini_kb, SeedPolicy(min_out=0, min_chars=0), 0)
    firsts = [mini_kb.by_id(i).categories[0] for i in plan[:5]]
    assert sorted(firsts) == ["body", "language", "person", "programming", "tool"]
    assert plan_seeds(mini_kb, SeedPolicy(min_out=0, min_chars=0), 0)[0] == plan  # seeded, repeatable


def test_seed_plan_drops_entities_no_walk_can_leave(mini_kb):
    """Round 3 of issue 20: an item retries only its own seeds, so a seed no walk can leave wasted its attempts.
    The plan keeps exactly the seeds `can_start` accepts, and a seed it refuses really dead-ends every walk."""
    import random

    import pytest

    from synth.pipelines.deepsearch.walk import WalkConfig, WalkError, can_start, grounded_walk

    policy, cfg = SeedPolicy(min_out=0, min_chars=0), WalkConfig(min_depth=2, max_hops=3)
    full, _ = plan_seeds(mini_kb, policy, 0)
    plan, stats = plan_seeds(mini_kb, policy, 0, can_start=lambda row: can_start(mini_kb, row, cfg))
    refused = [d for d in full if d not in plan]
    assert set(plan) <= set(full) and stats["excluded"].get("no_walkable_link", 0) == len(refused)
    assert plan and refused, "the mini corpus has seeds of both kinds"
    for doc_id in refused:
        for seed in range(5):
            with pytest.raises(WalkError):
                grounded_walk(mini_kb, mini_kb.row(doc_id), 2, random.Random(seed), cfg)
    assert plan_seeds(mini_kb, policy, 0, can_start=lambda row: False)[0] == []
