"""The GRPO loss against a direct computation with the HF model, clipping, KL, and zero gradient outside
the sampled tokens (tool results, prompts, template tokens)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from synth.trainers import config as C
from synth.trainers import loop, packing
from synth.trainers.model import PackedLM, build_hf
from synth.trainers.rl import advantages, objective
from synth.trainers.rl.rollout import Rollout, Segment, Sequence
from synth.trainers.rl.train import extra_of


@pytest.fixture(scope="module")
def policy():
    torch.manual_seed(0)
    hf = build_hf("grpo", None, C.load_model_config("tiny"), 0, torch.device("cpu"), 512, 0).double()
    return PackedLM(hf, "sdpa", None)


def items_for(segments_per_seq, rewards, length=24, seed=0):
    """One group; each rollout one sequence with the given sampled segments (the rest: prompt / tool tokens)."""
    rng = np.random.default_rng(seed)
    group = []
    for segs, reward in zip(segments_per_seq, rewards):
        seq = Sequence(rng.integers(3, 500, length).tolist(), [Segment(a, b, t, "stop") for t, (a, b) in enumerate(segs)])
        group.append(Rollout("p", len(group), [seq], "", {"total": reward}, reward > 0))
    items, _ = advantages.build_items([group], scale=True, turn_credit=0.0, mask_truncated=True)
    return items


def packed(items, policy, seq_len=64):
    row = packing.build_row([it.sample for it in items], seq_len, 0)
    batch = loop.batch_from_row(row, torch.device("cpu"), list(range(len(items))),
                                extra_of(items)(list(range(len(items))), torch.device("cpu")))
    batch.sel_weights = batch.sel_weights.double()
    batch.extra = {k: v.double() for k, v in batch.extra.items()}
    return batch


def direct_logps(policy, item):
    ids = torch.as_tensor(item.sample.ids, dtype=torch.long)[None]
    logits = policy.hf(input_ids=ids).logits[0].double()
    return torch.log_softmax(logits[:-1], -1).gather(1, ids[0, 1:, None])[:, 0]  # position t predicts t + 1


def test_on_policy_loss_and_gradient_equal_the_policy_gradient(policy):
    items = items_for([[(5, 9)], [(5, 12)], [(6, 8)]], [1.0, 0.0, 0.5])
    batch = packed(items, policy)
    n = sum(it.trained for it in items)
    policy.zero_grad()
    loss, stats = policy(batch, partial(objective.grpo, chunk=7), 1.0 / n)
    loss.backward()
    ours = {k: p.grad.clone() for k, p in policy.named_parameters()}
    policy.zero_grad()
    ref = 0.0
    for it in items:
        mask = torch.as_tensor(it.sample.weights[:-1], dtype=torch.float64)
        adv = torch.as_tensor(it.adv[:-1], dtype=torch.float64)
        ref = ref - (adv * mask * direct_logps(policy, it)).sum() / n
    ref.backward()
    assert torch.allclose(loss, ref.detach().new_tensor(-sum((it.adv * it.sample.weights).sum() for it in items) / n))
    for k, p in policy.named_parameters():
        assert torch.allclose(ours[k], p.grad, atol=1e-10, rtol=1e-7), k
    assert float(stats["clip_frac"]) == 0.0 and abs(float(stats["ratio"]) - 1.0) < 1e-12


def test_clipping_and_kl(policy):
    items = items_for([[(5, 9)], [(5, 9)]], [1.0, 0.0])
    batch = packed(items, policy)
    with torch.no_grad():
        h = policy.hidden(batch)
        lp = objective.token_logps(policy, h, batch, 4096).double()
    pos = batch.extra["adv"] > 0
    # behaviour log-probs 0.5 nats lower: ratio e^0.5 = 1.65 > 1 + 0.28, so positive-advantage tokens are clipped
    batch.extra["old"] = lp - 0.5
    batch.extra["ref"] = lp.clone()
    h = policy.hidden(batch).detach().requires_grad_(True)
    loss, stats = objective.grpo(policy, h, batch, 1.0 / int(batch.n_sel), kl_beta=0.1)
    loss.backward()
    grads = h.grad[batch.sel].abs().sum(-1)
    assert torch.all(grads[pos] == 0) and torch.all(grads[~pos] > 0)  # clipped tokens pass no gradient
    assert abs(float(stats["clip_frac"]) - float(pos.double().mean())) < 1e-9
    assert abs(float(stats["kl"])) < 1e-12  # reference == current: KL 0


def test_tool_and_prompt_tokens_get_zero_gradient(policy):
    # positions 0-5 prompt, 6-9 sampled call, 10-17 tool result + template, 18-21 sampled answer, 22-23 template
    items = items_for([[(6, 10), (18, 22)], [(6, 10), (18, 22)]], [1.0, 0.0])
    batch = packed(items, policy)
    h = policy.hidden(batch).detach().requires_grad_(True)
    loss, _ = objective.grpo(policy, h, batch, 1.0 / int(batch.n_sel))
    loss.backward()
    g = h.grad.abs().sum(-1)
    for k in range(2):
        base = 24 * k
        sampled = [base + t for t in (*range(5, 9), *range(17, 21))]  # positions that predict sampled tokens
        others = [base + t for t in range(24) if base + t not in sampled]
        assert torch.all(g[sampled] > 0) and torch.all(g[others] == 0)


def test_behaviour_logps_for_several_updates_match_the_model(policy):
    """--grpo-updates > 1: `old` log-probs come from a no-grad pass over packed rows, item by item."""
    from types import SimpleNamespace

    from synth.trainers.dist import Env
    from synth.trainers.rl.train import fill_logps

    items = items_for([[(5, 9)], [(5, 12)], [(6, 8)]], [1.0, 0.0, 0.5])
    job = loop.TrainJob(cfg=SimpleNamespace(seq_len=64, loss_chunk=5), env=Env(0, 1, 0, torch.device("cpu")), model=policy,
                   objective=None, items=items, samples_of=lambda it: [it.sample], norm_of=lambda it: float(it.trained))
    fill_logps(job, policy, items, "old")
    for it in items:
        with torch.no_grad():
            expected = direct_logps(policy, it).numpy()[it.sample.weights[:-1] > 0]
        assert it.old.shape == expected.shape and np.allclose(it.old, expected, atol=1e-6)
