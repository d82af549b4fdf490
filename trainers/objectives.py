"""One function per training mode: (model, hidden [T, d], batch, scale) -> (loss, stats).

`scale` is 1 / (the step's global normalizer), known before the step from the packing plan, so summing
micro-batch losses gives exactly the step loss whatever the packing, accumulation or rank count:
- sft: normalizer = supervised target positions in the step; loss = sum w_t * nll_t / normalizer
  (a weight scales its message's tokens; loss-0 tokens are not even sent to the head).
- dpo / rm: normalizer = preference pairs in the step; the loss is the mean over pairs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from synth.trainers.losses import linear_cross_entropy, linear_logprobs


def sft(model, h: torch.Tensor, batch, scale: float, chunk: int = 4096):
    loss = linear_cross_entropy(h[batch.sel], model.head.weight, batch.sel_targets, batch.sel_weights,
                                chunk=chunk, compute_dtype=model.compute_dtype) * scale
    return loss, {"loss": loss.detach()}


def sequence_logps(model, h: torch.Tensor, batch, chunk: int = 4096) -> torch.Tensor:
    """Weighted sum of log p(target) over each sample's supervised positions -> [samples]."""
    lp = linear_logprobs(h[batch.sel], model.head.weight, batch.sel_targets, chunk=chunk,
                         compute_dtype=model.compute_dtype)
    return torch.zeros(batch.n_samples, dtype=lp.dtype, device=lp.device).index_add(
        0, batch.sel_slot, lp * batch.sel_weights)


def _pair_stats(z: torch.Tensor, loss: torch.Tensor, scale: float) -> dict:
    return {"loss": loss.detach(), "accuracy": (z.detach() > 0).float().sum() * scale,
            "margin": z.detach().sum() * scale}


def dpo(model, h: torch.Tensor, batch, scale: float, beta: float = 0.1, chunk: int = 4096):
    """Rows hold pairs as (chosen, rejected) consecutive samples; reference log-probs come precomputed."""
    seq = sequence_logps(model, h, batch, chunk)
    ref = batch.extra["ref"]  # [pairs, 2]
    z = beta * ((seq[0::2] - ref[:, 0]) - (seq[1::2] - ref[:, 1])) - batch.extra["margin"]
    loss = -F.logsigmoid(z).sum() * scale
    return loss, _pair_stats(z, loss, scale)


def reward(model, h: torch.Tensor, batch, scale: float):
    """Bradley-Terry: reward = score head at each sample's last token; -log sigmoid(r_c - r_r - margin)."""
    last = h[batch.last]
    head = model.head
    r = head(last.to(head.weight.dtype)).float()[:, 0]
    z = r[0::2] - r[1::2] - batch.extra["margin"]
    loss = -F.logsigmoid(z).sum() * scale
    stats = _pair_stats(z, loss, scale)
    stats["reward_mean"] = r.detach().sum() * scale / 2
    return loss, stats
