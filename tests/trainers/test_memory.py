"""Memory options: stochastic-rounding AdamW for bf16 weights, optimizer offload, and `--memory auto`'s choice."""

from __future__ import annotations

import pytest
import torch
from synth.trainers import memory
from synth.trainers.config import load_model_config
from synth.trainers.optim import StochasticAdamW, round_stochastic_


def test_stochastic_rounding_is_unbiased_and_exact_on_bf16_values():
    x = torch.randn(4096, generator=torch.Generator().manual_seed(0)) * 3
    gen = torch.Generator().manual_seed(1)
    out = torch.empty_like(x, dtype=torch.bfloat16)
    total = torch.zeros_like(x, dtype=torch.float64)
    draws = 400
    for _ in range(draws):
        round_stochastic_(out, x.clone(), torch.randint(0, 65536, x.shape, generator=gen, dtype=torch.int32))
        lower = x.to(torch.bfloat16).double()  # every draw is one of the two bf16 neighbours of x
        ulp = (x.abs().double() * 2.0**-7).clamp_min(1e-30)
        assert ((out.double() - x.double()).abs() <= ulp).all()
        total += out.double()
    bias = (total / draws - x.double()) / (x.abs().double() * 2.0**-8)  # in bf16 ulps (of the rounding step)
    assert bias.mean().abs() < 0.02 and bias.abs().max() < 0.35
    exact = x.to(torch.bfloat16).float()
    round_stochastic_(out, exact.clone(), torch.full(x.shape, 65535, dtype=torch.int32))
    assert torch.equal(out.float(), exact) and lower.numel() == x.numel()


def test_hash_noise_is_uniform_keyed_and_unbiased_for_rounding():
    from synth.trainers.optim import hash_noise, noise_key, stochastic_bits

    a = hash_noise(1 << 18, torch.tensor(noise_key(0, 1, 1, 0)))
    assert a.min() >= 0 and a.max() <= 65535 and a.dtype == torch.int32
    counts = torch.bincount(a >> 12, minlength=16).double()  # 16 equal bins of the 16-bit range
    assert (counts / counts.mean() - 1).abs().max() < 0.03
    b = hash_noise(1 << 18, torch.tensor(noise_key(0, 2, 1, 0)))  # next step: fresh noise
    assert (a == b).double().mean() < 0.01
    assert torch.equal(a, hash_noise(1 << 18, torch.tensor(noise_key(0, 1, 1, 0))))  # same key, same noise
    x = torch.randn(4096, generator=torch.Generator().manual_seed(0)) * 3
    draws = torch.stack([stochastic_bits(x.clone(), hash_noise(x.numel(), torch.tensor(noise_key(0, s, 1, 0))))
                         for s in range(400)]).double()
    bias = (draws.mean(0) - x.double()) / (x.abs().double() * 2.0**-8)
    assert bias.mean().abs() < 0.02 and bias.abs().max() < 0.35


@pytest.mark.slow
def test_compiled_update_equals_the_eager_one_bit_for_bit():
    """The fused (torch.compile) update computes the eager function: same weights and moments, bf16 bit for bit."""
    from synth.trainers.optim import adamw_chunk

    gen = torch.Generator().manual_seed(3)
    tensors = [torch.randn(10_007, generator=gen).to(torch.bfloat16), torch.randn(10_007, generator=gen).to(torch.bfloat16),
               torch.randn(10_007, generator=gen) * 0.1, torch.rand(10_007, generator=gen) * 0.01]
    hyper, key = torch.tensor([1e-3, 0.9, 0.95, 1e-8, 0.1, 0.1, 0.05]), torch.tensor(12345)
    eager, fused = [t.clone() for t in tensors], [t.clone() for t in tensors]
    adamw_chunk(*eager, hyper, key)
    torch.compile(adamw_chunk, dynamic=True, fullgraph=True)(*fused, hyper, key)
    for e, f in zip(eager, fused):
        assert torch.equal(e, f)
    assert not torch.equal(eager[0], tensors[0])


def _train(param_dtype: torch.dtype, optimizer: str, steps: int = 300) -> float:
    """Fit a least-squares problem whose updates are far below a bf16 ulp of the weights; returns the loss."""
    gen = torch.Generator().manual_seed(0)
    a, target = torch.randn(256, 32, generator=gen), torch.randn(256, generator=gen)
    w = torch.nn.Parameter((torch.ones(32) * 4).to(param_dtype))
    opt = (torch.optim.AdamW([w], lr=1e-3, betas=(0.9, 0.95)) if optimizer == "torch"
           else StochasticAdamW([w], lr=1e-3, betas=(0.9, 0.95), seed=0))
    for _ in range(steps):
        loss = ((a @ w.float() - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(((a @ w.detach().float() - target) ** 2).mean())


def test_bf16_weights_with_stochastic_rounding_track_fp32_master_weights():
    fp32 = _train(torch.float32, "torch")
    stochastic = _train(torch.bfloat16, "stochastic")
    nearest = _train(torch.bfloat16, "torch")  # round-to-nearest bf16 AdamW: updates < half an ulp are lost
    start = _train(torch.float32, "torch", steps=0)
    assert abs(stochastic - fp32) < 0.05 * (start - fp32)
    assert (nearest - fp32) > 5 * abs(stochastic - fp32)


def test_fp32_params_match_torch_adamw_and_offload_and_resume_are_exact():
    gen = torch.Generator().manual_seed(2)
    w0, grads = torch.randn(64, 48, generator=gen), [torch.randn(64, 48, generator=gen) for _ in range(4)]
    runs = {}
    for name in ("torch", "ours", "offload"):
        p = torch.nn.Parameter(w0.clone())
        kw = {"lr": 1e-2, "betas": (0.9, 0.95), "eps": 1e-8, "weight_decay": 0.1}
        opt = torch.optim.AdamW([p], **kw) if name == "torch" else StochasticAdamW([p], offload=name == "offload", **kw)
        for g in grads:
            p.grad = g.clone()
            opt.step()
        runs[name] = p.detach()
    torch.testing.assert_close(runs["ours"], runs["torch"], rtol=1e-5, atol=1e-6)
    assert torch.equal(runs["ours"], runs["offload"])

    def bf16_run(split: bool) -> torch.Tensor:
        p = torch.nn.Parameter(w0.to(torch.bfloat16))
        opt = StochasticAdamW([p], lr=1e-3, seed=5)
        for i, g in enumerate(grads):
            if split and i == 2:  # a resumed run: a fresh optimizer loaded from the saved state
                state = opt.state_dict()
                opt = StochasticAdamW([p], lr=1e-3, seed=5)
                opt.load_state_dict(state)
            p.grad = g.to(torch.bfloat16)
            opt.step()
        assert all(opt.state[p][k].dtype == torch.float32 for k in ("exp_avg", "exp_avg_sq"))
        return p.detach()

    assert torch.equal(bf16_run(False), bf16_run(True))


def test_auto_picks_the_fastest_setting_that_fits():
    shape = memory.Shape.from_config(load_model_config("nanbeige4.1-3b"))
    assert 3.8e9 < shape.params < 3.95e9
    gib = memory.GIB
    fast, need, fits = memory.choose(shape, 8192, 4096, 200 * gib)
    assert (fast.master, fast.checkpointing, fast.offload, fits) == ("fp32", "none", False, True)
    h100 = 78.7 * gib
    setting, need, fits = memory.choose(shape, 8192, 4096, h100)
    assert fits and need <= h100 and setting.master == "bf16"
    assert memory.estimate(shape, memory.Setting("fp32", "none", False), 8192, 4096) > h100
    # one row per step at 64k: keeping every layer's attention output beats recomputing 30 whole layers
    mid, need, fits = memory.choose(shape, 65536, 2048, h100, accum=1)
    assert fits and (mid.checkpointing, mid.offload) == ("selective", False)
    assert memory.cost(shape, mid, 65536) < memory.cost(shape, memory.Setting("bf16", "30", False), 65536)
    long, need, fits = memory.choose(shape, 131072, 2048, h100, accum=1)
    assert fits and long.checkpointing in ("selective", "full") and long.offload
    _, _, fits = memory.choose(shape, 2**22, 2048, h100)
    assert not fits
    order = [memory.estimate(shape, memory.Setting("bf16", s, False), 32768, 4096) for s in ("none", "8", "16", "full")]
    assert order == sorted(order, reverse=True)  # more recomputed layers, less memory
    full, selective = (memory.estimate(shape, memory.Setting("bf16", s, False), 32768, 4096) for s in ("full", "selective"))
    assert full < selective < order[0]
    # without accumulation the gradients are not held at the end of the forward: 2 bytes/param fewer
    one, two = (memory.estimate(shape, memory.Setting("bf16", "full", False), 65536, 2048, accum=a) for a in (1, 2))
    assert two - one == pytest.approx(2 * shape.params, rel=1e-6)


def test_usable_memory_respects_the_per_process_cap(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (70 * memory.GIB, 140 * memory.GIB))
    monkeypatch.setattr(torch.cuda, "get_per_process_memory_fraction", lambda device=None: 0.25)
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device=None: 5 * memory.GIB)
    assert memory.usable_bytes(None) == 30 * memory.GIB
    monkeypatch.setattr(torch.cuda, "get_per_process_memory_fraction", lambda device=None: 1.0)
    assert memory.usable_bytes(None) == 70 * memory.GIB


@pytest.mark.parametrize("bad", [{"memory": "small"}, {"master_weights": "fp16"},
                                 {"offload_optimizer": True, "memory": "fixed"}, {"context_parallel": 0}])
def test_bad_memory_flags_are_user_errors(bad):
    from synth.trainers.config import from_dict

    from synth.errors import UserError

    with pytest.raises(UserError):
        from_dict({"data": ["x"], "out": "o", "from_config": "tiny", **bad})
