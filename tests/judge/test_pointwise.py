"""`synth judge pointwise` against a scripted judge: per-criterion scores with rationales under the rubric's
schema, the weighted overall score, the score filter, failures as rejects, and the manifest figures."""

from __future__ import annotations

from synth.pipelines.judge.rubric import load_rubric
from synth.pipelines.judge.verdicts import verdict_schema

from synth.teachers.structured import first_schema_error
from tests.core.helpers import synth
from tests.judge.helpers import data, judge, manifest, rejects
from tests.judge.scripted import candidates

RUBRIC = """name = "short"
[[criteria]]
name = "accuracy"
description = "Is it right?"
weight = 3
[[criteria]]
name = "style"
description = "Is it pleasant to read?"
"""


def test_scores_per_criterion_weighted_filtered_and_summarized(fake_openai, tmp_path):
    from tests.judge.scripted import judge as scripted

    (tmp_path / "rubric.toml").write_text(RUBRIC)
    fake_openai.handler = scripted({"broken": "garbage"})
    # "split" prompts: accuracy scores q, style q - 2 -> overall (3q + q - 2) / 4: q=8 -> 7.5, q=4 -> 3.5
    src = candidates(tmp_path / "in.jsonl", {"split": [8, 4], "broken": [5]})
    summary = judge("pointwise", src, tmp_path / "out", fake_openai.url, "--rubric", str(tmp_path / "rubric.toml"),
                    "--min-score", "5", "--structured", "json_schema")
    assert summary["counts"] == {"input": 3, "output": 1, "rejected": 2,
                                 "rejected_by_reason": {"score_below_threshold": 1, "teacher_unparsable": 1}}
    [kept] = data(tmp_path / "out")
    verdict = kept["metadata"]["judge"]
    assert verdict["score"] == 7.5 and verdict["rubric"] == "short" and verdict["judge"] == "llm:fake-model"
    assert verdict["scores"] == {"accuracy": {"score": 8, "rationale": "accuracy looks like 8", "weight": 3.0},
                                 "style": {"score": 6, "rationale": "style looks like 6", "weight": 1.0}}
    assert kept["metadata"]["candidate"] == 0 and kept["messages"][-1]["content"] == "answer 0 q=8"  # input kept
    dropped = {r["reason"]: r for r in rejects(tmp_path / "out")}
    assert dropped["score_below_threshold"]["record"]["metadata"]["judge"]["score"] == 3.5
    assert dropped["teacher_unparsable"]["raw"] == "I would rather not say."
    assert dropped["teacher_unparsable"]["record"]["id"] == "broken-0"
    stats = manifest(tmp_path / "out")["stats"]
    assert (stats["scored"], stats["kept"], stats["filtered"], stats["mean_score"]) == (2, 1, 1, 5.5)
    assert stats["score_histogram"] == {"3": 1, "7": 1}
    assert stats["criteria_mean"] == {"accuracy": 6.0, "style": 4.0}
    assert stats["rubric"]["hash"] == load_rubric(tmp_path / "rubric.toml").digest
    # every reply was asked for under the rubric's schema, and the judge saw the rubric and the response
    request = fake_openai.completions()[0].body
    schema = request["response_format"]["json_schema"]["schema"]
    assert schema == load_rubric(tmp_path / "rubric.toml").schema(400)
    prompt = request["messages"][0]["content"]
    assert "- accuracy (weight 3): Is it right?" in prompt and "[Response to rate]\nASSISTANT: answer" in prompt
    assert synth("validate", str(tmp_path / "out")).returncode == 0


def test_plain_prompt_response_records_become_valid_trajectories(fake_openai, tmp_path):
    from tests.judge.scripted import judge as scripted

    fake_openai.handler = scripted()
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "plain question?", "response": "it is q=6", "source": "mine"}\n')
    judge("pointwise", src, tmp_path / "out", fake_openai.url)
    [record] = data(tmp_path / "out")
    assert record["messages"] == [{"role": "user", "content": "plain question?"},
                                  {"role": "assistant", "content": "it is q=6"}]
    assert record["id"].startswith("c-") and record["task_id"].startswith("p-") and "source" not in record
    assert record["metadata"]["judge"]["score"] == 6.0


def test_reply_schemas_stay_regex_constrainable():
    from synth.teachers.structured import schema_regex

    assert schema_regex(load_rubric().schema(100)) is not None and schema_regex(verdict_schema(100)) is not None
    assert first_schema_error({"analysis": "x", "verdict": "A>=B"}, verdict_schema()) is not None
