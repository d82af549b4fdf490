"""run_train end to end on CPU with the tiny config: learning, resume, DPO, reward model, HF export."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from synth.trainers import checkpoint, run_train

from tests.trainers.trainer_data import preference_pairs, trajectories, write_jsonl


def base(tmp: Path, tokenizer_dir: Path, data: Path, **kw) -> dict:
    cfg = {"data": [str(data)], "out": str(tmp / "out"), "from_config": "tiny", "tokenizer": str(tokenizer_dir),
           "seq_len": 512, "lr": 3e-3, "precision": "fp32", "seed": 1}
    cfg.update(kw)
    return cfg


def log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def sft_data(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("sft") / "sft.jsonl", trajectories(24, seed=3))


def test_sft_loss_decreases_and_exports_a_loadable_model(tmp_path, tokenizer_dir, sft_data):
    manifest = run_train(base(tmp_path, tokenizer_dir, sft_data, steps=24, warmup=2, eval_fraction=0.15))
    losses = [r["loss"] for r in log(tmp_path / "out") if "loss" in r]
    assert len(losses) == 24 and all(math.isfinite(x) for x in losses)
    assert sum(losses[-4:]) / 4 < 0.8 * sum(losses[:4]) / 4
    assert manifest["stats"]["eval"]["loss"] > 0 and manifest["counts"]["output"] == 24
    assert (tmp_path / "out" / "manifest.json").is_file()

    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "out"
    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert model.config._attn_implementation != "synth_packed"
    # trained in fp32, saved as bf16 (--save-dtype default): config.json says so and transformers loads bf16
    assert json.loads((out / "config.json").read_text())["dtype"] == "bfloat16"
    assert model.dtype == torch.bfloat16
    ids = tok.apply_chat_template([{"role": "user", "content": "question?"}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)["input_ids"]
    gen = model.generate(ids, max_new_tokens=5, do_sample=False)
    assert gen.shape[1] > ids.shape[1]


def test_resume_gives_the_same_next_step_loss(tmp_path, tokenizer_dir, sft_data, monkeypatch):
    straight = run_train(base(tmp_path / "a", tokenizer_dir, sft_data, steps=4, save_every=2))
    assert straight["stats"]["steps"] == 4
    expected = log(tmp_path / "a" / "out")

    real_save = checkpoint.save

    def crash_after_save(*args, **kwargs):
        real_save(*args, **kwargs)
        raise KeyboardInterrupt("simulated crash after the step-2 checkpoint")

    monkeypatch.setattr(checkpoint, "save", crash_after_save)
    with pytest.raises(KeyboardInterrupt):
        run_train(base(tmp_path / "b", tokenizer_dir, sft_data, steps=4, save_every=2))
    monkeypatch.setattr(checkpoint, "save", real_save)
    resumed = run_train(base(tmp_path / "b", tokenizer_dir, sft_data, steps=4, save_every=2))
    assert resumed["stats"]["resumed_from"] == 2
    got = log(tmp_path / "b" / "out")
    assert [r["step"] for r in got] == [1, 2, 3, 4]
    for a, b in zip(expected, got):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6, abs=1e-7), a["step"]


def test_changed_config_refuses_to_resume(tmp_path, tokenizer_dir, sft_data):
    from synth.errors import ConfigChangedError

    run_train(base(tmp_path, tokenizer_dir, sft_data, steps=1))
    with pytest.raises(ConfigChangedError):
        run_train(base(tmp_path, tokenizer_dir, sft_data, steps=1, lr=1e-4))


@pytest.fixture(scope="module")
def pair_data(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("pairs") / "pairs.jsonl", preference_pairs(32, seed=2))


def test_dpo_starts_at_log2_and_learns(tmp_path, tokenizer_dir, pair_data):
    manifest = run_train(base(tmp_path, tokenizer_dir, pair_data, mode="dpo", steps=8, dpo_beta=0.5, lr=5e-3))
    rows = log(tmp_path / "out")
    assert rows[0]["loss"] == pytest.approx(math.log(2), abs=1e-5)  # policy == reference at step 1
    assert rows[-1]["loss"] < rows[0]["loss"] and rows[-1]["accuracy"] > 0.5
    assert manifest["stats"]["train_items"] == 32


def test_reward_model_trains_and_loads_as_a_classifier(tmp_path, tokenizer_dir, pair_data):
    run_train(base(tmp_path, tokenizer_dir, pair_data, mode="rm", steps=8, use_margin=True))
    rows = log(tmp_path / "out")
    assert all(math.isfinite(r["loss"]) for r in rows)
    assert rows[-1]["loss"] < rows[0]["loss"]

    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "out")
    assert model.config.num_labels == 1
    with torch.no_grad():
        score = model(input_ids=torch.tensor([[5, 6, 7, 8]])).logits
    assert score.shape == (1, 1)


def test_long_samples_are_rejected_or_cut_only_with_truncate(tmp_path, tokenizer_dir, sft_data):
    rejected = run_train(base(tmp_path / "r", tokenizer_dir, sft_data, seq_len=320, steps=1))
    too_long = rejected["counts"]["rejected_by_reason"].get("too_long", 0)
    assert too_long > 0 and rejected["stats"]["truncated"] == 0
    cut = run_train(base(tmp_path / "t", tokenizer_dir, sft_data, seq_len=320, steps=1, truncate=True))
    assert cut["counts"]["rejected_by_reason"].get("too_long", 0) == 0
    assert cut["stats"]["truncated"] == too_long


@pytest.mark.slow  # two trainings
def test_selective_checkpointing_trains_like_none_and_exports_hf_names(tmp_path, tokenizer_dir, sft_data):
    runs = {}
    for spec in ("none", "selective"):
        out = tmp_path / spec
        run_train({**base(tmp_path, tokenizer_dir, sft_data, steps=3, warmup=1, memory="fixed"), "out": str(out),
                   "activation_checkpointing": spec})
        runs[spec] = [r["loss"] for r in log(out) if "loss" in r]
        from safetensors import safe_open

        with safe_open(str(out / "model.safetensors"), "pt") as fh:
            names = set(fh.keys())
        assert "model.layers.0.self_attn.q_proj.weight" in names
    assert runs["selective"] == runs["none"]
