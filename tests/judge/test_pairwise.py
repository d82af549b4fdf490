"""`synth judge pairwise` against a scripted OpenAI-compatible judge: the position swap, the tournament's
winner, the point-wise + pair-wise combination, and reliability figures checked against hand computations."""

from __future__ import annotations

import pytest

from tests.core.helpers import write_jsonl
from tests.judge.helpers import data, judge, manifest, rejects, run
from tests.judge.scripted import candidates, kind_of
from tests.judge.scripted import judge as scripted
from tests.teachers.fake_openai import Say, last_user


def test_position_inconsistent_verdicts_become_ties_and_the_figures_match_a_hand_count(fake_openai, tmp_path):
    # one match per prompt (2 candidates), so nothing depends on the bracket:
    #   strong    A>>B / B>>A for the better one      -> win, margin 1.0; point-wise agrees      tau +1
    #   inverted  A>B / B>A for the better one        -> win, margin 0.5; point-wise says 11 - q  tau -1
    #   biased    A>B whatever is shown first         -> position_inconsistent; tie-break by score tau +1
    #   flat      A=B both times, equal scores        -> judge_tie; coin; scores tied            tau undefined
    #   half      A>B if A is better, else A=B        -> position_inconsistent                   tau +1
    fake_openai.handler = scripted({"strong": "strong", "biased": "first", "flat": "tie", "half": "half"})
    src = candidates(tmp_path / "in.jsonl", {"strong": [3, 8], "inverted": [6, 2], "biased": [4, 9],
                                             "flat": [5, 5], "half": [7, 1]})
    summary = judge("pairwise", src, tmp_path / "out", fake_openai.url)
    assert summary["counts"] == {"input": 5, "output": 2, "rejected": 3,
                                 "rejected_by_reason": {"judge_tie": 1, "position_inconsistent": 2}}
    pairs = {p["metadata"]["prompt_id"]: p for p in data(tmp_path / "out")}
    assert pairs["strong"]["chosen"][0]["content"] == "answer 1 q=8" and pairs["strong"]["margin"] == 1.0
    assert pairs["inverted"]["chosen"][0]["content"] == "answer 0 q=6" and pairs["inverted"]["margin"] == 0.5
    verdicts = pairs["strong"]["verdicts"]
    assert [v["order"] for v in verdicts] == ["xy", "yx"] and verdicts[0]["a"] == verdicts[1]["b"]
    assert {v["verdict"] for v in verdicts} == {"A>>B", "B>>A"}
    assert pairs["strong"]["prompt"] == [{"role": "user", "content": "strong question?"}]
    dropped = {r["record"]["metadata"]["prompt_id"]: r for r in rejects(tmp_path / "out")}
    assert dropped["biased"]["reason"] == "position_inconsistent"
    assert dropped["biased"]["record"]["metadata"]["decided_by"] == "pointwise"
    assert dropped["biased"]["record"]["metadata"]["winner"] == "biased-1"  # the tie went to the better score
    assert dropped["flat"]["reason"] == "judge_tie" and dropped["flat"]["record"]["metadata"]["decided_by"] == "coin"
    stats = manifest(tmp_path / "out")["stats"]
    assert (stats["matches"], stats["judged"], stats["decisive"], stats["ties"], stats["inconsistent"]) == (5, 5, 2, 1, 2)
    assert stats["swap_consistency"] == 0.6 and stats["tie_rate"] == 0.6   # (2 + 1) / 5 and (1 + 2) / 5
    assert stats["first_position_preference"] == round(5 / 7, 4)           # 1/2 + 1/2 + 2/2 + 0/0 + 1/1
    assert stats["rank_agreement"] == {"kendall_tau_b": 0.5, "prompts": 4, "gamma": 0.5, "gamma_prompts": 4,
                                       "match_agreement": 0.5, "matches": 2, "score_ties": 0}


def test_the_tournament_finds_the_best_of_n_whatever_the_point_wise_scores(fake_openai, tmp_path):
    fake_openai.handler = scripted()
    qualities = [4, 9, 1, 7, 3, 6]  # 6 candidates: 2 byes, 5 matches, 3 rounds
    src = candidates(tmp_path / "in.jsonl", {"inverted-cup": qualities})  # point-wise scores say the opposite
    summary = judge("pairwise", src, tmp_path / "out", fake_openai.url, "--pairs", "best", "--format", "jsonl")
    pairs = data(tmp_path / "out")
    assert {p["metadata"]["winner"] for p in pairs} == {"inverted-cup-1"}  # q=9 wins: pair-wise ranks
    assert all(p["chosen"][0]["content"] == "answer 1 q=9" for p in pairs)
    assert len(pairs) in (2, 3)  # the champion plays 2 matches after a bye, else 3
    assert len(pairs) + summary["counts"]["rejected_by_reason"]["not_best_pair"] == 5
    stats = manifest(tmp_path / "out")["stats"]
    assert stats["decisive"] == 5 and stats["swap_consistency"] == 1.0 and stats["tie_rate"] == 0.0
    assert stats["rank_agreement"]["match_agreement"] == 0.0 and stats["rank_agreement"]["gamma"] < 0
    by_kind = [kind_of(r) for r in fake_openai.completions()]
    assert by_kind.count("pointwise") == 6 and by_kind.count("pairwise") == 10


def test_point_wise_filter_then_pair_wise_ranking(fake_openai, tmp_path):
    fake_openai.handler = scripted()
    src = candidates(tmp_path / "in.jsonl", {"combo": [2, 9, 6, 8, 4]})
    summary = judge("pairwise", src, tmp_path / "out", fake_openai.url, "--min-score", "5", "--top-k", "2")
    assert summary["counts"]["rejected_by_reason"] == {"below_top_k": 1, "score_below_threshold": 2}
    [pair] = data(tmp_path / "out")
    assert (pair["metadata"]["chosen_id"], pair["metadata"]["rejected_id"]) == ("combo-1", "combo-3")  # 9 beats 8
    assert pair["method"] == "pointwise+tournament" and pair["metadata"]["chosen_score"] == 9.0
    filtered = {r["record"]["id"]: r for r in rejects(tmp_path / "out")}
    assert filtered["combo-0"]["record"]["metadata"]["score"] == 2.0 and "< --min-score 5" in filtered["combo-0"]["detail"]
    assert filtered["combo-2"]["reason"] == "below_top_k"
    assert manifest(tmp_path / "out")["stats"]["filtered"] == {"below_top_k": 1, "score_below_threshold": 2}
    assert [kind_of(r) for r in fake_openai.completions()].count("pairwise") == 2


def test_scores_from_judge_pointwise_are_reused_and_off_skips_them(fake_openai, tmp_path):
    fake_openai.handler = scripted()
    src = candidates(tmp_path / "in.jsonl", {"chain": [3, 8, 5]})
    judge("pointwise", src, tmp_path / "scored", fake_openai.url)
    assert len(fake_openai.completions()) == 3
    judge("pairwise", str(tmp_path / "scored"), tmp_path / "pairs", fake_openai.url, "--pointwise", "input",
          "--min-score", "4")
    asked = [kind_of(r) for r in fake_openai.completions()[3:]]
    assert asked == ["pairwise"] * 2  # q=3 filtered on its stored score, one match of the other two
    [pair] = data(tmp_path / "pairs")
    assert pair["metadata"]["chosen_id"] == "chain-1" and pair["metadata"]["rejected_score"] == 5.0
    judge("pairwise", src, tmp_path / "off", fake_openai.url, "--pointwise", "off")
    assert all(kind_of(r) == "pairwise" for r in fake_openai.completions()[5:])
    off = manifest(tmp_path / "off")
    assert off["stats"]["method"] == "tournament" and off["stats"]["rank_agreement"]["kendall_tau_b"] is None
    assert {p["method"] for p in data(tmp_path / "off")} == {"tournament"}


def test_a_failing_judge_leaves_rejects_with_the_raw_reply_and_the_tournament_goes_on(fake_openai, tmp_path):
    fake_openai.handler = scripted({"garbage": "garbage"})
    src = candidates(tmp_path / "in.jsonl", {"garbage": [1, 2, 3], "fine": [1, 2]})
    summary = judge("pairwise", src, tmp_path / "out", fake_openai.url, "--pointwise", "off")
    assert summary["counts"]["rejected_by_reason"] == {"teacher_unparsable": 2} and summary["counts"]["output"] == 1
    for reject in rejects(tmp_path / "out"):
        assert reject["raw"] == "I would rather not say." and reject["record"]["metadata"]["status"] == "failed"
    stats = manifest(tmp_path / "out")["stats"]
    assert (stats["failed"], stats["judged"], stats["swap_consistency"]) == (2, 1, 1.0)


def test_same_seed_same_pairs_other_seed_other_bracket(fake_openai, tmp_path):
    fake_openai.handler = scripted()
    src = candidates(tmp_path / "in.jsonl", {"det": [5, 2, 8, 1, 9, 4, 7, 3]})

    def pairs(name, seed):
        judge("pairwise", src, tmp_path / name, fake_openai.url, "--seed", str(seed), "--pointwise", "off")
        return data(tmp_path / name)

    first, again, other = pairs("a", 1), pairs("b", 1), pairs("c", 2)
    assert first == again
    assert {p["id"] for p in first} != {p["id"] for p in other}  # another bracket: other matches
    assert {p["metadata"]["winner"] for p in first + other} == {"det-4"}  # the same champion (q=9)


@pytest.mark.parametrize("rows, args, message", [
    ('{"id": "a", "messages": [{"role": "user", "content": "hi"}]}', [], "in.jsonl:1: field 'messages': no response"),
    ('{"id": "a", "prompt": "hi", "response": "yo"}', ["--pointwise", "input"], "field 'metadata.judge.score'"),
    ('{"id": "a", "prompt": "hi", "response": "yo"}', ["--pointwise", "off", "--top-k", "2"], "--top-k"),
    ('{"id": "a", "prompt": "hi", "response": "yo"}', ["--pairs", "some"], "--pairs must be one of all, best"),
    ('{"id": "a", "prompt": "hi", "response": "yo"}', ["--rubric", "missing.yaml"], "missing.yaml: --rubric file not found"),
])
def test_bad_input_and_flags_exit_2_with_one_line(fake_openai, tmp_path, rows, args, message):
    (tmp_path / "in.jsonl").write_text(rows + "\n")
    err = judge("pairwise", tmp_path / "in.jsonl", tmp_path / "out", fake_openai.url, *args, expect=2)
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not fake_openai.completions()


def test_from_generate_responses_to_pairs_and_a_resume_that_asks_nothing_again(fake_openai, tmp_path):
    judging = scripted()

    def teacher(req):  # sampling: a quality from the request's seed; judging: the scripted judge
        if "[Conversation]" in last_user(req):
            return judging(req)
        return Say(f"my answer q={req.body['seed'] % 9 + 1}")

    fake_openai.handler = teacher
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"id": f"g{i}", "messages": [
        {"role": "user", "content": f"g{i} question?"}]} for i in range(3)])
    run("generate", "responses", str(prompts), "--out", str(tmp_path / "responses"), "--teacher",
        f"openai:{fake_openai.url}", "--model", "fake-model", "--n", "4")
    args = ("pairwise", str(tmp_path / "responses"), tmp_path / "pairs", fake_openai.url)
    first = judge(*args)
    assert first["counts"]["input"] == 3  # 12 candidates grouped into 3 prompts by task_id
    stats = manifest(tmp_path / "pairs")["stats"]
    assert stats["matches"] == 9 and stats["prompts"] == 3
    asked = len(fake_openai.completions())
    again = judge(*args)
    assert len(fake_openai.completions()) == asked and again["counts"] == first["counts"]
    assert manifest(tmp_path / "pairs")["stats"] == stats



def test_the_example_pipeline_resolves_in_order(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "pipelines" / "judge.yaml"
    summary = run("run", str(example), "--dry-run", "--workdir", str(tmp_path / "w"))
    rows = summary["stages"]
    assert [r["command"].split()[:3] for r in rows] == [["synth", "generate", "responses"], ["synth", "judge", "pointwise"],
                                                        ["synth", "judge", "pairwise"], ["synth", "train", "--data"]]
    assert [r["needs"] for r in rows] == [[], ["responses"], ["pointwise"], ["pairwise"]]
    assert not (tmp_path / "w").exists()


def test_dry_run_counts_the_calls_and_writes_nothing(fake_openai, tmp_path):
    fake_openai.handler = scripted()
    src = candidates(tmp_path / "in.jsonl", {"a": [1, 2, 3], "b": [4, 5, 6, 7, 8]})
    dry = judge("pairwise", src, tmp_path / "out", fake_openai.url, "--dry-run")
    assert dry["status"] == "dry_run" and dry["records"] == 2
    assert dry["requests"] == 8 + 2 * (2 + 4)  # 8 point-wise scores, then both orders of n - 1 matches per prompt
    pilot = judge("pairwise", src, tmp_path / "out", fake_openai.url, "--pilot", "1")
    assert pilot["pilot"]["records"] == 1 and len(fake_openai.completions()) == 3 + 2 * 2
    assert not (tmp_path / "out").exists()
