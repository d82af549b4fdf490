"""Pairs from `synth judge pairwise` are DPO input as they are: `synth train --mode dpo` reads, renders and
trains on them (2 steps of the tiny config on CPU), with their margins."""

from __future__ import annotations

from tests.judge.helpers import data, judge, run
from tests.judge.scripted import candidates
from tests.judge.scripted import judge as scripted


def test_judged_pairs_train_with_dpo(fake_openai, tmp_path, tiny_model_dir):
    fake_openai.handler = scripted({"s": "strong"})
    prompts = {f"{name}{i}": [(3 * i + k) % 10 + 1 for k in range(4)] for i in range(3) for name in ("s", "w")}
    judge("pairwise", candidates(tmp_path / "in.jsonl", prompts), tmp_path / "pairs", fake_openai.url,
          "--pointwise", "off")
    pairs = data(tmp_path / "pairs")
    assert len(pairs) == 18 and {p["margin"] for p in pairs} == {0.5, 1.0}
    # the trainer's own loader: every pair renders (no rejects), margins come through
    from synth.trainers.config import from_dict
    from synth.trainers.data import Pair, prepare
    from synth.trainers.model import load_tokenizer
    from synth.trainers.render import ChatRenderer

    cfg = from_dict({"data": [str(tmp_path / "pairs")], "out": str(tmp_path / "unused"), "mode": "dpo",
                     "from_config": "tiny", "tokenizer": str(tiny_model_dir), "seq_len": 512})
    prepared = prepare(cfg, ChatRenderer(load_tokenizer(str(tiny_model_dir))), str(tiny_model_dir))
    assert prepared.records == 18 and not prepared.rejects
    assert all(isinstance(p, Pair) for p in prepared.train) and {p.margin for p in prepared.train} == {0.5, 1.0}
    summary = run("train", "--data", str(tmp_path / "pairs"), "--out", str(tmp_path / "model"), "--mode", "dpo",
                  "--from-config", "tiny", "--tokenizer", str(tiny_model_dir), "--seq-len", "512", "--steps", "2",
                  "--precision", "fp32", "--use-margin", "--no-checkpoint-at-end")
    assert summary["mode"] == "dpo" and summary["steps"] == 2 and summary["records"] == 18
    assert summary["loss"] > 0 and not summary["rejected"]
