"""FSDP2 through torchrun on CPU (gloo, 2 ranks) trains exactly like one process with the same rows per step."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from synth.trainers import run_train

from tests.trainers.trainer_data import trajectories, write_jsonl

pytestmark = pytest.mark.slow


def test_two_rank_fsdp_matches_single_process(tmp_path, tokenizer_dir):
    data = write_jsonl(tmp_path / "sft.jsonl", trajectories(16, seed=4))
    common = ["--data", str(data), "--from-config", "tiny", "--tokenizer", str(tokenizer_dir), "--seq-len", "512",
              "--steps", "3", "--precision", "fp32", "--lr", "1e-3", "--device", "cpu", "--checkpoint-at-end", "false"]
    single = run_train({"data": [str(data)], "out": str(tmp_path / "one"), "from_config": "tiny",
                        "tokenizer": str(tokenizer_dir), "seq_len": 512, "steps": 3, "precision": "fp32", "lr": 1e-3,
                        "device": "cpu", "grad_accum": 2, "checkpoint_at_end": False})
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "synth.trainers",
           "--out", str(tmp_path / "two"), "--grad-accum", "1", "--json", *common]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    one = [json.loads(x) for x in (tmp_path / "one" / "train_log.jsonl").read_text().splitlines()]
    two = [json.loads(x) for x in (tmp_path / "two" / "train_log.jsonl").read_text().splitlines()]
    assert [r["tokens"] for r in one] == [r["tokens"] for r in two]
    for a, b in zip(one, two):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-4)
    assert single["stats"]["world_size"] == 1

    from safetensors.torch import load_file

    w1, w2 = load_file(tmp_path / "one" / "model.safetensors"), load_file(tmp_path / "two" / "model.safetensors")
    assert w1.keys() == w2.keys()
    for key in w1:
        assert (w1[key].float() - w2[key].float()).abs().max() <= 1e-2 * w1[key].float().abs().max() + 1e-6, key


def test_two_rank_context_parallel_trains_like_one_process(tmp_path, tokenizer_dir):
    """torchrun, 2 ranks, --context-parallel 2: both ranks share each row (half its tokens each), FSDP2 sums
    the gradients; losses and gradient norms equal one process training on whole rows."""
    data = write_jsonl(tmp_path / "sft.jsonl", trajectories(12, seed=5))
    common = ["--data", str(data), "--from-config", "tiny", "--tokenizer", str(tokenizer_dir), "--seq-len", "512",
              "--steps", "3", "--precision", "fp32", "--lr", "1e-3", "--device", "cpu", "--checkpoint-at-end", "false",
              "--grad-accum", "1"]
    run_train({"data": [str(data)], "out": str(tmp_path / "one"), "from_config": "tiny", "tokenizer": str(tokenizer_dir),
               "seq_len": 512, "steps": 3, "precision": "fp32", "lr": 1e-3, "device": "cpu", "grad_accum": 1,
               "checkpoint_at_end": False})
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "synth.trainers",
           "--out", str(tmp_path / "cp"), "--context-parallel", "2", *common]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    one = [json.loads(x) for x in (tmp_path / "one" / "train_log.jsonl").read_text().splitlines()]
    cp = [json.loads(x) for x in (tmp_path / "cp" / "train_log.jsonl").read_text().splitlines()]
    assert len(one) == len(cp) == 3 and [r["tokens"] for r in one] == [r["tokens"] for r in cp]
    for a, b in zip(one, cp):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-4)
