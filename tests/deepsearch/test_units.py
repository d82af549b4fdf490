"""Text helpers, operators, facts and descriptions on exact inputs."""

from __future__ import annotations

import random

from synth.pipelines.deepsearch import operators as ops
from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch.facts import describe, edges_from


def test_sentences_are_exact_spans_and_respect_abbreviations():
    text = "A tool by Sun Microsystems, Inc. for Unix. E.g. it runs on J. Smith's box.\n\nSecond paragraph here"
    spans = tx.sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "A tool by Sun Microsystems, Inc. for Unix.", "E.g. it runs on J. Smith's box.", "Second paragraph here"]


def test_mentions_is_case_sensitive_for_short_names_only():
    assert tx.mentions("compiled with a C compiler", "C")
    assert not tx.mentions("see section c of the manual", "C")
    assert not tx.mentions("we want to go home", "Go")
    assert tx.mentions("The ZORBLANG manual", "Zorblang")
    assert tx.mentions("written in C++ mostly", "C++") and not tx.mentions("written in C++ mostly", "C")


def test_period_operator_keeps_the_year_range_for_the_check():
    masked = ops.Masked("first released in 1987 by the lab")
    logs = ops.period(masked, "X")
    assert masked.display == "first released in the late 1980s by the lab"
    assert masked.year_ranges == [(1987, 1989)]
    assert masked.fragments == ["first released", "by the lab"]
    assert logs == [{"op": "period", "target": "X", "before": "in 1987", "after": "in the late 1980s"}]


def test_partial_names_only_for_proper_names():
    assert ops.partial_name("Guido van Rossum") == "Guido v. R."
    assert ops.partial_name("Smalltalk") == "Sma…"
    assert ops.partial_name("scalar") is None and ops.partial_name("IBM") is None
    masked = ops.Masked("written by Tuuli Saari in Espoo")
    ops.partial(masked, [(11, 22)], "B", random.Random(0), 1.0)
    assert masked.display == "written by Tuuli S. in Espoo" and "Saari" not in " ".join(masked.fragments)


def test_elide_hides_every_name_longest_first():
    masked = ops.Masked("Zorblang (ZBL) compiles to Quux; ZBL is fast")
    ops.elide(masked, ["ZBL", "Zorblang"], "X")
    assert masked.display == "… (…) compiles to Quux; … is fast"


def test_edges_carry_a_cue_and_a_verbatim_quote(mini_kb):
    row = mini_kb.row("zorblang")
    edges = {mini_kb.doc(e.dst).id: e for e in edges_from(mini_kb, row)}
    text = mini_kb.doc(row).text
    kovac = edges["kovac"]
    assert (kovac.left, kovac.right) == ("programming language designed by", "")
    assert text[kovac.anchor_start:kovac.anchor_end] == "Mira Kovac"
    assert kovac.start <= kovac.anchor_start < kovac.anchor_end <= kovac.end
    assert text[kovac.start:kovac.end].startswith("(ZBL) A functional programming language")
    # the subject's own name never enters a cue ("Zorblang programs compile to ...")
    assert edges["quux"].left == "programs compile to the"


def test_descriptions_come_from_the_entity_itself_without_hidden_names(mini_kb):
    zorb = describe(mini_kb, mini_kb.row("zorblang"))
    assert zorb.quote.startswith("A functional programming language designed by Mira Kovac")  # "(ZBL) " stripped
    assert mini_kb.doc(zorb.row).text[zorb.start:zorb.end] == zorb.quote
    assert "ZBL" in mini_kb.names(mini_kb.row("zorblang"))  # redirect title and the leading abbreviation
    quux = describe(mini_kb, mini_kb.row("quux"), hidden_rows=(mini_kb.row("hlab"),))
    assert quux is not None and "Helsinki Lab" in quux.quote  # the verbatim quote; the question elides it


def test_initials_do_not_break_sentences():
    text = "Named after J.M.E. Baudot, a French engineer. The U.S. Navy used it."
    assert [text[s:e] for s, e in tx.sentence_spans(text)] == [
        "Named after J.M.E. Baudot, a French engineer.", "The U.S. Navy used it."]


def test_acronyms_and_punctuation_names_do_not_match_common_words():
    assert not tx.mentions("a programming term whose entry", "TERM") and tx.mentions("runs under TERM", "TERM")


def test_solver_strength_gate():
    from synth.pipelines.deepsearch.strength import gate_tier, parse_size, solver_record

    assert parse_size("135M", "--x") == 135_000_000 and parse_size("1.5b", "--x") == 1_500_000_000
    assert parse_size("7e9", "--x") == 7_000_000_000 and parse_size(None, "--x") is None
    small, unknown = solver_record("m", 135_000_000, 4, 12), solver_record("m", None, 4, 12)
    big = solver_record("m", 8_000_000_000, 4, 12)
    assert gate_tier("hard", small, None) == ("hard", small)          # no minimum: nothing withheld
    assert gate_tier("easy", small, 7_000_000_000) == ("easy", small)  # easy stands whatever the solver
    assert gate_tier("rl", big, 7_000_000_000) == ("rl", big)
    for solver in (small, unknown):
        tier, gated = gate_tier("rl", solver, 7_000_000_000)
        assert tier == "unverified" and "< --min-solver-params 7B" in gated["tier_refused"]
