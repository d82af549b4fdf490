"""The GRPO objective over a packed row: clipped importance-weighted advantage, token-level, optional KL.

For every trained token t (mask m_t = 1) with advantage A_t, behaviour log-prob `old_t` (the policy that
sampled the batch) and current log-prob lp_t:

    r_t    = exp(lp_t - old_t)
    loss_t = -min(r_t * A_t, clip(r_t, 1 - eps, 1 + eps_high) * A_t) + beta * k3_t
    k3_t   = exp(ref_t - lp_t) - (ref_t - lp_t) - 1          (unbiased, non-negative KL estimate)
    loss   = sum_t m_t * loss_t / (trained tokens in the optimizer step)

Token-level normalisation (DAPO): every token of the step weighs the same, so long completions are not
down-weighted per token as in the per-sequence mean of the original GRPO. With one update per rollout
batch, old_t = lp_t.detach() (r = 1, the plain policy gradient); with --grpo-updates > 1 the loop fills
`old` with a no-grad pass before the first update. `scale` = 1 / trained tokens of the step (the loop's
normalizer), so micro-batch losses add up to the step loss whatever the packing.
"""

from __future__ import annotations

import torch
from synth.trainers.losses import linear_logprobs


def token_logps(model, h: torch.Tensor, batch, chunk: int) -> torch.Tensor:
    """log p(target) at every trained position of the row, in row order -> [n_sel] (fp32)."""
    return linear_logprobs(h[batch.sel], model.head.weight, batch.sel_targets, chunk=chunk,
                           compute_dtype=model.compute_dtype).float()


def grpo(model, h: torch.Tensor, batch, scale: float, clip_eps: float = 0.2, clip_eps_high: float = 0.28,
         kl_beta: float = 0.0, chunk: int = 4096):
    if batch.n_sel == 0:  # a filler row: keep the graph connected, contribute nothing
        zero = (h.sum() + model.head.weight.sum()) * 0.0
        return zero, {"loss": zero.detach()}
    lp = token_logps(model, h, batch, chunk)
    adv, m = batch.extra["adv"], batch.sel_weights
    old = batch.extra.get("old")
    old = lp.detach() if old is None else old
    ratio = torch.exp(lp - old)
    clipped = ratio.clamp(1 - clip_eps, 1 + clip_eps_high)
    per_token = -torch.minimum(ratio * adv, clipped * adv)
    stats = {}
    if kl_beta > 0:
        d = batch.extra["ref"] - lp
        k3 = torch.exp(d) - d - 1
        per_token = per_token + kl_beta * k3
        stats["kl"] = (k3.detach() * m).sum() * scale
    loss = (per_token * m).sum() * scale
    was_clipped = ((ratio * adv) > (clipped * adv)).float().detach()  # where the clipped branch is the min
    stats.update(loss=loss.detach(), clip_frac=(was_clipped * m).sum() * scale,
                 ratio=(ratio.detach() * m).sum() * scale)
    return loss, stats
