"""The judge's pure parts: the position swap, the knockout, rank statistics, rubrics, candidates, grouping."""

from __future__ import annotations

import asyncio
import math
import pickle
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synth.pipelines.judge import grouping
from synth.pipelines.judge.candidates import candidate_of, render
from synth.pipelines.judge.reliability import gamma, kendall_tau_b
from synth.pipelines.judge.rubric import load_rubric
from synth.pipelines.judge.tournament import bracket, knockout, placements_of
from synth.pipelines.judge.verdicts import FAILED, INCONSISTENT, TIE, WIN, Outcome, combine

from synth.errors import UserError
from tests.core.helpers import write_jsonl


# -- the position swap --------------------------------------------------------------------------------
@pytest.mark.parametrize("first, second, expected", [
    ("A>B", "B>A", (WIN, "x", 0.5)),        # X preferred in both orders
    ("A>>B", "B>>A", (WIN, "x", 1.0)),
    ("A>>B", "B>A", (WIN, "x", 0.75)),
    ("B>A", "A>>B", (WIN, "y", 0.75)),      # Y preferred in both orders
    ("A=B", "A=B", (TIE, None, 0.0)),       # a consistent tie
    ("A>B", "A>B", (INCONSISTENT, None, 0.0)),  # the first position won both times: no preference
    ("B>>A", "B>A", (INCONSISTENT, None, 0.0)),
    ("A>B", "A=B", (INCONSISTENT, None, 0.0)),  # a win in one order, a tie in the other
    ("A>B", None, (FAILED, None, 0.0)),
])
def test_both_orders_must_agree(first, second, expected):
    assert combine(first, second) == expected


# -- the knockout -------------------------------------------------------------------------------------
def play_by_strength(strength: dict[str, int], log: list | None = None):
    async def play(x, y, rnd):
        if log is not None:
            log.append((rnd, x, y))
        if strength[x] == strength[y]:
            return Outcome(TIE)
        return Outcome(WIN, "x" if strength[x] > strength[y] else "y", 0.5)
    return play


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6, 8, 13])
def test_the_strongest_wins_in_n_minus_1_matches_with_byes_only_in_round_1(n):
    strength = {f"c{i}": (i * 7) % n for i in range(n)}
    log: list = []
    result = asyncio.run(knockout(list(strength), "seed:p", play_by_strength(strength, log)))
    assert result.winner == max(strength, key=strength.get)
    assert len(result.matches) == n - 1 and result.rounds == math.ceil(math.log2(n))
    if n == 1:
        return
    size = 1 << (n - 1).bit_length()
    per_round = [sum(1 for r, *_ in log if r == k) for k in range(1, result.rounds + 1)]
    # round 1 plays the n - byes players without a bye; every later round is full
    assert per_round == [n - size // 2] + [size >> (k + 1) for k in range(1, result.rounds)]
    assert all(any(c in (x, y) for _, x, y in log) for c in strength)  # everyone plays at least once


def test_bracket_is_a_function_of_the_seed():
    ids = [f"c{i}" for i in range(8)]
    assert bracket(ids, "1:p") == bracket(ids, "1:p") and sorted(bracket(ids, "1:p")) == ids
    assert len({tuple(bracket(ids, f"{s}:p")) for s in range(10)}) > 5


def test_ties_go_to_the_better_point_wise_score_else_a_seeded_coin():
    strength = {"a": 1, "b": 1, "c": 1, "d": 1}  # every match a tie
    scores = {"a": 2.0, "b": 9.0, "c": 5.0, "d": 5.0}
    result = asyncio.run(knockout(list(strength), "s:p", play_by_strength(strength), scores))
    assert result.winner == "b"
    for m in result.matches:
        assert m.decided_by == ("coin" if scores[m.x] == scores[m.y] else "pointwise")
    again = asyncio.run(knockout(list(strength), "s:p", play_by_strength(strength)))  # no scores: coins only
    assert [m.advanced for m in again.matches] == [m.advanced for m in asyncio.run(
        knockout(list(strength), "s:p", play_by_strength(strength))).matches]


def test_placements_rank_by_elimination_round():
    matches = [(1, "a", "b", "a"), (1, "c", "d", "d"), (2, "e", "a", "e"), (2, "d", "f", "f"), (3, "e", "f", "e")]
    assert placements_of(matches) == {"b": 1, "c": 1, "a": 2, "d": 2, "f": 3, "e": 4}


# -- rank statistics ----------------------------------------------------------------------------------
def test_tau_and_gamma_by_hand():
    # scores 9, 7, 7, 2 against placements 3, 2, 1, 1: pairs (0,1)+ (0,2)+ (0,3)+ (1,2)+ (1,3)+ (2,3) x-tie? no:
    x, y = [9, 7, 7, 2], [3, 2, 1, 1]
    # pairs: (0,1) C, (0,2) C, (0,3) C, (1,2) x-tie, (1,3) C, (2,3) y-tie -> C=4, D=0, n0=6, n1=1, n2=1
    assert kendall_tau_b(x, y) == pytest.approx(4 / 5)
    assert gamma(x, y) == 1.0
    assert gamma([1, 2, 3], [3, 2, 1]) == -1.0 and kendall_tau_b([1, 2], [5, 5]) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3)), min_size=2, max_size=9))
def test_tau_b_matches_scipy(pairs):
    from scipy.stats import kendalltau

    x, y = [float(a) for a, _ in pairs], [float(b) for _, b in pairs]
    expected = kendalltau(x, y).statistic
    got = kendall_tau_b(x, y)
    assert (got is None and math.isnan(expected)) or got == pytest.approx(expected)


# -- rubrics ------------------------------------------------------------------------------------------
def test_default_rubric_and_weighted_score():
    rubric = load_rubric()
    assert [c.name for c in rubric.criteria] == ["correctness", "helpfulness", "reasoning", "clarity"]
    assert rubric.overall({"correctness": 9, "helpfulness": 6, "reasoning": 3, "clarity": 10}) == round(
        (3 * 9 + 2 * 6 + 3 + 10) / 7, 4)
    schema = rubric.schema(50)
    assert schema["properties"]["clarity"]["properties"]["score"] == {"type": "integer", "minimum": 1, "maximum": 10}


@pytest.mark.parametrize("name, text", [
    ("r.yaml", "name: mine\ncriteria:\n  - {name: accuracy, description: right, weight: 2}\n  - {name: style, description: nice}\n"),
    ("r.toml", 'criteria = [{name = "accuracy", description = "right", weight = 2}, {name = "style", description = "nice"}]\n'),
    ("r.json", '{"criteria": {"accuracy": {"description": "right", "weight": 2}, "style": "nice"}}'),
])
def test_rubric_files_in_three_formats(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    rubric = load_rubric(tmp_path / name)
    assert [(c.name, c.weight) for c in rubric.criteria] == [("accuracy", 2.0), ("style", 1.0)]
    assert rubric.overall({"accuracy": 10, "style": 4}) == 8.0


@pytest.mark.parametrize("text, message", [
    ("criteria:\n  - {name: a, description: x, weight: 0}\n", "criteria[0].weight"),
    ("criteria:\n  - {name: a}\n", "criteria[0].description"),
    ("criteria:\n  - {name: Bad Name, description: x}\n", "criteria[0].name"),
    ("criteria:\n  - {name: a, description: x}\n  - {name: a, description: y}\n", "duplicate name 'a'"),
    ("criteria: []\n", "at least one"),
    ("just text\n", "expected a mapping with 'criteria'"),
])
def test_bad_rubrics_name_the_file_and_field(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        load_rubric(path)
    assert str(path) in str(err.value) and message in str(err.value)


# -- candidates and grouping --------------------------------------------------------------------------
def test_candidate_shapes():
    chat = candidate_of({"id": "t1", "task_id": "q", "messages": [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function",
                                                               "function": {"name": "calc", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": "4", "loss": 0}, {"role": "assistant", "content": "4", "loss": 1}]})
    assert chat.prompt_id == "q" and [m["role"] for m in chat.prompt] == ["system", "user"]
    assert [m["role"] for m in chat.response] == ["assistant", "tool", "assistant"]
    assert "loss" not in chat.response[-1] and "[tool call] calc({})" in render(chat.response, 100)
    flat = candidate_of({"prompt": "2+2?", "response": "4"})
    assert flat.response == [{"role": "assistant", "content": "4"}] and flat.prompt_id.startswith("p-")
    assert candidate_of({"prompt": "2+2?", "completion": "4"}).prompt_id == flat.prompt_id  # same prompt, same group
    assert "no response" in candidate_of({"messages": [{"role": "user", "content": "hi"}]})
    scored = candidate_of({"id": "x", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                           "metadata": {"judge": {"score": 7.5, "scores": {"c": {"score": 7}}}}})
    assert scored.score == 7.5


def test_grouping_is_external_and_keeps_first_appearance_order(tmp_path, monkeypatch):
    monkeypatch.setattr(grouping, "BUCKET_ROWS", 3)  # force several buckets on a small input
    rng = random.Random(4)
    rows = [{"id": f"{p}-{k}", "task_id": p, "messages": [{"role": "user", "content": p},
                                                         {"role": "assistant", "content": f"{p}{k}"}]}
            for p in ("a", "b", "c", "d", "e") for k in range(3)]
    rng.shuffle(rows)
    half = len(rows) // 2
    one = write_jsonl(tmp_path / "one.jsonl", rows[:half])
    two = write_jsonl(tmp_path / "two.jsonl", rows[half:] + [rows[0]])  # a repeated id in another file
    count = grouping.group_inputs([str(one), str(two)], tmp_path / "g", len(rows) + 1)
    first_seen = list(dict.fromkeys(r["task_id"] for r in rows))
    reader = pickle.loads(pickle.dumps(grouping.GroupReader(tmp_path / "g")))
    groups = [reader(i) for i in range(count)]
    assert [g["id"] for g in groups] == first_seen
    for g in groups:
        expected = [r["id"] for r in rows + [rows[0]] if r["task_id"] == g["id"]]
        ids = [c["id"] for c in g["candidates"]]
        assert [i.split("#")[0] for i in ids] == expected and len(set(ids)) == len(ids)
    assert reader(2) == groups[2]  # random access
    assert not list((tmp_path / "g").glob("bucket-*"))
