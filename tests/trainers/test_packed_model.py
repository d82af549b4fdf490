"""The packed forward is the HF model: same hidden states per sample, packed loss = unpacked loss,
and targets without loss change nothing (loss and every gradient bit-identical)."""

from __future__ import annotations

from types import SimpleNamespace as NS

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from synth.trainers import loop, objectives, packing
from synth.trainers.config import load_model_config
from synth.trainers.model import PackedLM, build_hf
from synth.trainers.render import Sample

DEV = torch.device("cpu")


@pytest.fixture(scope="module")
def hf(tokenizer):
    return build_hf("sft", None, load_model_config("tiny"), 0, DEV, len(tokenizer), tokenizer.pad_token_id)


def samples(seed: int = 0, lengths=(50, 17, 80)) -> list[Sample]:
    rng = np.random.default_rng(seed)
    out = []
    for n in lengths:
        w = rng.choice([0.0, 0.5, 1.0], size=n).astype(np.float32)
        w[-1] = 0
        out.append(Sample(rng.integers(0, 400, n).astype(np.int32), w))
    return out


def job(model, seq_len: int):
    return NS(cfg=NS(seq_len=seq_len), pad_id=0, env=NS(device=DEV), samples_of=lambda it: [it], model=model)


def loss_and_grads(model, batches, norm):
    model.zero_grad(set_to_none=True)
    total = 0.0
    for b in batches:
        loss, _ = model(b, objectives.sft, 1.0 / norm)
        loss.backward()
        total += loss.item()
    return total, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("backend", ["sdpa", "flex"])
def test_hidden_states_match_hf_per_sample(hf, backend):
    model = PackedLM(hf, backend, None).eval()
    ss = samples()
    batch = loop.make_batch(job(model, 160), ss, [0, 1, 2], lambda i, d: {})
    with torch.no_grad():
        ours = model.hidden(batch)[: sum(len(s) for s in ss)]
        ref = torch.cat([hf.model(input_ids=torch.from_numpy(s.ids.astype(np.int64))[None]).last_hidden_state[0]
                         for s in ss])
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_packed_loss_and_grads_equal_unpacked(hf):
    model = PackedLM(hf, "sdpa", None)
    ss = samples(1)
    norm = sum(float((s.weights > 0).sum()) for s in ss)
    packed = [loop.make_batch(job(model, 160), ss, [0, 1, 2], lambda i, d: {})]
    single = [loop.make_batch(job(model, 96), ss, [i], lambda i, d: {}) for i in range(3)]
    lp, gp = loss_and_grads(model, packed, norm)
    lu, gu = loss_and_grads(model, single, norm)
    assert lp == pytest.approx(lu, rel=1e-6)
    assert gp.keys() == gu.keys()
    for name in gp:
        torch.testing.assert_close(gp[name], gu[name], rtol=1e-5, atol=1e-7)


def test_loss_zero_targets_contribute_exactly_nothing(hf):
    model = PackedLM(hf, "sdpa", None)
    ss = samples(2)
    row = packing.build_row(ss, 160, 0)
    norm = float((row.weights > 0).sum())
    altered = packing.build_row(ss, 160, 0)
    free = row.weights == 0
    altered.targets[free] = np.random.default_rng(9).integers(0, 400, int(free.sum()))
    a = loss_and_grads(model, [loop.batch_from_row(row, DEV, [0], {})], norm)
    b = loss_and_grads(model, [loop.batch_from_row(altered, DEV, [0], {})], norm)
    assert a[0] == b[0]
    for name in a[1]:
        assert torch.equal(a[1][name], b[1][name]), name
    # and the value is the plain weighted cross-entropy over full logits with those positions ignored
    with torch.no_grad():
        logits = torch.cat([hf(input_ids=torch.from_numpy(s.ids.astype(np.int64))[None]).logits[0] for s in ss])
    n = logits.shape[0]
    targets = torch.from_numpy(altered.targets[:n])
    weights = torch.from_numpy(row.weights[:n])
    ref = (F.cross_entropy(logits, targets, reduction="none") * weights).sum() / norm
    assert a[0] == pytest.approx(ref.item(), rel=1e-5)


def test_selective_checkpointing_keeps_attention_and_changes_no_gradient(hf):
    """`selective`: every layer is recomputed for its backward except its attention kernel, whose output is kept
    (the kernel runs once per layer in forward + backward, against twice under full checkpointing), and loss and
    gradients are bit-identical to no checkpointing."""
    import copy

    from synth.trainers.model import checkpoint_layers
    from torch.utils._python_dispatch import TorchDispatchMode

    class CountAttention(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.calls += "scaled_dot_product" in str(func) and "backward" not in str(func)
            return func(*args, **(kwargs or {}))

    ss = samples(3)
    norm = sum(float((s.weights > 0).sum()) for s in ss)
    runs = {}
    for spec in ("none", "full", "selective"):
        model = PackedLM(copy.deepcopy(hf), "sdpa", None)
        checkpoint_layers(model, spec)
        batch = loop.make_batch(job(model, 160), ss, [0, 1, 2], lambda i, d: {})
        with CountAttention() as counter:
            runs[spec] = (*loss_and_grads(model, [batch], norm), counter.calls)
        assert list(model.state_dict()) == list(hf.state_dict())  # HF names kept (export, checkpoints)
    layers = len(hf.model.layers)
    assert (runs["none"][2], runs["full"][2], runs["selective"][2]) == (layers, 2 * layers, layers)
    for spec in ("full", "selective"):
        assert runs[spec][0] == runs["none"][0]
        for name, grad in runs["none"][1].items():
            assert torch.equal(runs[spec][1][name], grad), (spec, name)
