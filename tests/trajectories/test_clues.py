"""The honest solver reads the realizer's grammar (pipelines/grammar.py) from the question text alone."""

from __future__ import annotations

import random

import pytest
from synth.pipelines.deepsearch.abstract import Abstract
from synth.pipelines.deepsearch.formal import Constraint, Formal
from synth.pipelines.deepsearch.verbalize import Realizer
from synth.pipelines.grammar import VERBS, category_of, period_years
from synth.pipelines.trajectories.clues import parse_question


def shape(question: str) -> list[tuple]:
    return [(c.subject, c.refs, c.kind, c.quotes, c.prefix, c.period) for c in parse_question(question)]


def test_a_realized_chain_with_coordination_period_prefix_and_description():
    q = ("Which job term from the early 1980s makes use of a tool whose name begins with “de” and that has to do "
         "with a programming term described as a single instruction, one in a computer program whose name begins "
         "with “st” and is associated with a programming term described as a sequence of execution?")
    assert shape(q) == [
        (None, ["A"], ["job"], [], None, (1980, 1983)),
        ("A", ["B", "C"], ["tool"], [], "de", None),
        ("B", [], ["programming"], ["a single instruction, one in a computer program"], "st", None),
        ("C", [], ["programming"], ["a sequence of execution"], None, None)]


def test_kind_of_without_article_and_a_cycle_back_to_a_named_entity():
    q = ("Which is the compression term that is meant for a music term from the late 1990s that is a type of "
         "multimedia term described as a sequence of discrete samples whose name begins with “di”?")
    assert [(s, r, k) for s, r, k, *_ in shape(q)] == [(None, ["A"], ["compression"]), ("A", ["B"], ["music"]),
                                                       ("B", [], ["multimedia"])]
    cyc = ("What is the storage term that is connected with a storage term that is associated with a hardware term "
           "described as an eight-bit microprocessor and is meant for a computer from the early 1980s whose name "
           "begins with “Co” and that is associated with that same hardware term?")
    clues = parse_question(cyc)
    assert len(clues) == 4 and clues[3].refs == ["B"] and clues[1].refs == ["B", "C"]   # no clue for "that same"


@pytest.mark.parametrize("verb", sorted({v for vs in VERBS.values() for v in vs}))
def test_every_verb_of_the_grammar_is_read(verb):
    q = f"Which language {verb} a tool that {verb} an editor described as a program for editing text files?"
    clues = parse_question(q)
    assert [c.refs for c in clues] == [["A"], ["B"], []], verb
    assert clues[2].quotes == ["a program for editing text files"]


def test_type_nouns_and_periods_map_back():
    assert category_of("mathematical term") == "mathematics" and category_of("humorous term") == "humour"
    assert category_of("concept") is None and category_of("term") is None and category_of("foo term") == "foo"
    assert period_years("from the mid-1970s") == (1974, 1976) and period_years("from the late 1960s") == (1967, 1969)


def test_the_reader_parses_what_the_realizer_writes():
    """Structure round trip: a formal tree realized by the grammar parses back into the same tree."""
    types = {"X": "language", "A": "tool", "B": "programming", "C": "hardware", "D": "mathematics"}
    links = [("X", "A"), ("X", "C"), ("A", "B"), ("C", "D")]
    for seed in range(20):
        rng = random.Random(seed)
        formal = Formal("X", {v: i for i, v in enumerate(types)}, dict(types))
        for i, (s, o) in enumerate(links):
            formal.constraints.append(Constraint(f"l{i}", "link", s, o, value=rng.choice(sorted(VERBS))))
        for leaf, text in (("B", "a sequence of execution"), ("D", "a set of zeros, one in a word")):
            formal.constants[f"desc{leaf}"] = Abstract(text, text.split())
            formal.constraints.append(Constraint(f"d{leaf}", "description", leaf, constant=f"desc{leaf}"))
        question = Realizer(formal, rng).question()
        clues = parse_question(question)
        assert sorted(len(c.refs) for c in clues) == [0, 0, 1, 1, 2], question
        assert sorted(k for c in clues for k in c.kind) == sorted(types.values()), question
        assert sorted(q for c in clues for q in c.quotes) == ["a sequence of execution", "a set of zeros, one in a word"]


def test_the_type_noun_is_kept_as_written_for_queries():
    """Checks use the category ("games"); queries may only use the question's words ("game term")."""
    clues = parse_question("Can you name the game term from the late 1970s that has to do with a messaging term "
                           "described as a basic unit of group discussion?")
    assert (clues[0].kind, clues[0].noun) == (["games"], "game term")
    assert "games" not in clues[0].keywords and "1970s" not in clues[0].keywords
