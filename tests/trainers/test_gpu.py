"""CUDA-only checks of the fast paths (run on the GPU machine; never in CI)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.gpu

if not torch.cuda.is_available():
    pytest.skip("needs CUDA", allow_module_level=True)

DEV = torch.device("cuda")


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


def test_flash_varlen_matches_block_diagonal_sdpa():
    from synth.trainers.attention import dense_mask, flash_varlen

    torch.manual_seed(0)
    lengths = [300, 1, 517, 182]
    t, h, hkv, d = sum(lengths), 8, 2, 128
    q = torch.randn(t, h, d, device=DEV, dtype=torch.bfloat16, requires_grad=True)
    k = torch.randn(t, hkv, d, device=DEV, dtype=torch.bfloat16, requires_grad=True)
    v = torch.randn(t, hkv, d, device=DEV, dtype=torch.bfloat16, requires_grad=True)
    cu = torch.tensor(np.cumsum([0] + lengths), dtype=torch.int32, device=DEV)
    seq = torch.repeat_interleave(torch.arange(len(lengths), device=DEV), torch.tensor(lengths, device=DEV))
    out, _ = flash_varlen(q, k, v, cu, 1024, d ** -0.5)
    grad = torch.randn_like(out)
    dq, dk, dv = torch.autograd.grad(out, (q, k, v), grad)
    qr, kr, vr = (x.detach().double().transpose(0, 1)[None].requires_grad_() for x in (q, k, v))
    ref = torch.nn.functional.scaled_dot_product_attention(
        qr, kr.repeat_interleave(h // hkv, 1), vr.repeat_interleave(h // hkv, 1), attn_mask=dense_mask(seq))
    ref = ref[0].transpose(0, 1)
    rq, rk, rv = torch.autograd.grad(ref, (qr, kr, vr), grad.double())
    assert rel(out, ref) < 1e-2
    for ours, theirs in ((dq, rq), (dk, rk), (dv, rv)):
        assert rel(ours, theirs[0].transpose(0, 1)) < 2e-2


def test_packed_model_varlen_compiled_matches_sdpa_eager(tokenizer):
    from types import SimpleNamespace as NS

    from synth.trainers import loop, objectives
    from synth.trainers.config import load_model_config
    from synth.trainers.model import PackedLM, build_hf, compile_layers
    from synth.trainers.render import Sample

    rng = np.random.default_rng(0)
    ss = [Sample(rng.integers(0, 400, n).astype(np.int32), np.r_[np.ones(n - 1), 0].astype(np.float32))
          for n in (200, 57, 600)]
    results = {}
    for backend, compiled in (("sdpa", False), ("varlen", False), ("varlen", True)):
        hf = build_hf("sft", None, load_model_config("tiny"), 0, DEV, len(tokenizer), 0)
        model = PackedLM(hf, backend, torch.bfloat16)
        if compiled:
            compile_layers(model)
        job = NS(cfg=NS(seq_len=1024), pad_id=0, env=NS(device=DEV), samples_of=lambda it: [it])
        losses = []
        for _ in range(2):  # the second call exercises the compiled graph with cached code
            batch = loop.make_batch(job, ss, [0, 1, 2], lambda i, d: {})
            loss, _ = model(batch, objectives.sft, 1.0 / 855)
            loss.backward()
            losses.append(loss.item())
        grad = hf.model.layers[0].self_attn.q_proj.weight.grad.clone()
        results[(backend, compiled)] = (losses[0], grad)
    ref_loss, ref_grad = results[("sdpa", False)]
    for key, (loss, grad) in results.items():
        assert loss == pytest.approx(ref_loss, rel=2e-2), key
        assert rel(grad, ref_grad) < 5e-2, key


def test_compiled_cross_entropy_matches_fp64():
    from synth.trainers.losses import linear_cross_entropy

    torch.manual_seed(1)
    h = torch.randn(5000, 256, device=DEV)
    w = torch.randn(3001, 256, device=DEV) * 0.05
    t = torch.randint(0, 3001, (5000,), device=DEV)
    wt = torch.rand(5000, device=DEV)
    hb, wb = h.clone().requires_grad_(), w.clone().requires_grad_()
    ours = linear_cross_entropy(hb, wb, t, wt, chunk=2048, compute_dtype=torch.bfloat16)
    gh, gw = torch.autograd.grad(ours, (hb, wb))
    hr, wr = h.double().requires_grad_(), w.double().requires_grad_()
    ref = (torch.nn.functional.cross_entropy(hr @ wr.t(), t, reduction="none") * wt.double()).sum()
    rh, rw = torch.autograd.grad(ref, (hr, wr))
    assert rel(ours, ref) < 1e-2 and rel(gh, rh) < 2e-2 and rel(gw, rw) < 2e-2


def test_run_train_on_cuda_end_to_end(tmp_path, tokenizer_dir):
    """The full path on a GPU: render, pack, compiled layers + varlen, bf16 autocast, export; sft then dpo."""
    import json

    from synth.trainers import run_train
    from transformers import AutoModelForCausalLM

    from tests.trainers.trainer_data import preference_pairs, trajectories, write_jsonl

    sft = write_jsonl(tmp_path / "sft.jsonl", trajectories(48, seed=1))
    common = {"from_config": "tiny", "tokenizer": str(tokenizer_dir), "seq_len": 1024, "lr": 3e-3, "device": "cuda"}
    manifest = run_train({"data": [str(sft)], "out": str(tmp_path / "sft"), "steps": 16, "eval_fraction": 0.1,
                          **common})
    rows = [json.loads(x) for x in (tmp_path / "sft" / "train_log.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "loss" in r]  # eval lines nest their loss under "eval"
    assert manifest["stats"]["attention"] == "varlen"
    assert rows[-1]["loss"] < rows[0]["loss"] and rows[-1]["mfu"] is not None
    AutoModelForCausalLM.from_pretrained(tmp_path / "sft")
    pairs = write_jsonl(tmp_path / "pairs.jsonl", preference_pairs(32, seed=3))
    run_train({"data": [str(pairs)], "out": str(tmp_path / "dpo"), "mode": "dpo", "model": str(tmp_path / "sft"),
               "steps": 4, **{k: v for k, v in common.items() if k not in ("from_config",)},
               "tokenizer": str(tmp_path / "sft")})
    first = json.loads((tmp_path / "dpo" / "train_log.jsonl").read_text().splitlines()[0])
    assert abs(first["loss"] - 0.6931) < 2e-2  # bf16 policy == reference at step 1
