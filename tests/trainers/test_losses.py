"""Chunked head losses against the plain full-logits computation, values and gradients."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from synth.trainers.losses import linear_cross_entropy, linear_logprobs


def _inputs(n=37, d=16, v=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(n, d, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(v, d, generator=g, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, v, (n,), generator=g)
    wt = torch.rand(n, generator=g, dtype=torch.float64)
    return h, w, t, wt


def _grads(loss, *xs):
    return torch.autograd.grad(loss, xs)


def test_cross_entropy_matches_full_logits_for_any_chunk():
    h, w, t, wt = _inputs()
    ref = (F.cross_entropy(h @ w.t(), t, reduction="none") * wt).sum()
    ref_g = _grads(ref * 0.3, h, w)
    for chunk in (5, 16, 37, 100):
        ours = linear_cross_entropy(h, w, t, wt, chunk=chunk)
        assert torch.allclose(ours, ref, rtol=1e-10)
        for a, b in zip(_grads(ours * 0.3, h, w), ref_g):
            assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_cross_entropy_zero_weight_targets_are_inert():
    h, w, t, wt = _inputs()
    wt[::3] = 0
    t2 = t.clone()
    t2[::3] = (t2[::3] + 7) % w.shape[0]  # different targets where the weight is 0
    a = linear_cross_entropy(h, w, t, wt, chunk=8)
    b = linear_cross_entropy(h, w, t2, wt, chunk=8)
    assert torch.equal(a, b)
    for ga, gb in zip(_grads(a, h, w), _grads(b, h, w)):
        assert torch.equal(ga, gb)


def test_logprobs_match_log_softmax():
    h, w, t, _ = _inputs(seed=1)
    ref = torch.log_softmax(h @ w.t(), -1).gather(1, t[:, None])[:, 0]
    up = torch.randn_like(ref)
    ours = linear_logprobs(h, w, t, chunk=6)
    assert torch.allclose(ours, ref, rtol=1e-10)
    for a, b in zip(_grads((ours * up).sum(), h, w), _grads((ref * up).sum(), h, w)):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_empty_selection_gives_zero_loss_and_gradient():
    h, w, t, wt = _inputs()
    loss = linear_cross_entropy(h[:0], w, t[:0], wt[:0])
    assert loss.item() == 0.0
    assert torch.count_nonzero(torch.autograd.grad(loss, w)[0]) == 0
