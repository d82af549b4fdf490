"""AdamW with fp32-quality optimizer state at fewer bytes per parameter (`--master-weights bf16`).

fp32 master weights + fp32 AdamW cost 16 bytes per parameter (weight, gradient, two moments), 62 GB for the
3.9 B-parameter Nanbeige4.1-3B shape before a single activation: too much for an 80 GB card. Here the
weights and gradients are bf16 (2 + 2 bytes) and the moments stay fp32 (8 bytes): 12 bytes per parameter.
What makes bf16 weights safe is how the update lands: it is computed in fp32 and rounded into bf16
*stochastically* (round up with probability equal to the distance to the lower neighbour), so the expected
weight equals the fp32 result and updates smaller than half a bf16 ulp are not lost, as they are with
round-to-nearest (Zamirai et al. 2020, "Revisiting BFloat16 Training"; Gupta et al. 2015).

`offload=True` keeps both moments in pinned CPU memory and streams them through the GPU chunk by chunk at
step time (4 GPU bytes per parameter): the long-context setting, where a step lasts tens of seconds and the
PCIe traffic (16 bytes per parameter) is a small share of it.

The rounding noise is a counter-based hash of (seed, step, parameter, element): a resumed run draws the same
noise as an uninterrupted one, and the hash fuses into the update kernel (no generator state, no noise tensor).
"""

from __future__ import annotations

import torch

MOMENTS = ("exp_avg", "exp_avg_sq")
CHUNK = 1 << 26  # elements per update chunk: bounds the fp32 temporaries to a few hundred MB


def _local(t: torch.Tensor) -> torch.Tensor:
    """The local shard of an FSDP2 DTensor (the update is elementwise), or the tensor itself."""
    return t.to_local() if hasattr(t, "to_local") else t


def stochastic_bits(x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """x (fp32) rounded stochastically to a bf16 value (still fp32): add uniform noise below the 16 dropped mantissa
    bits, then truncate. On the sign-magnitude bit pattern this rounds the magnitude, so it is symmetric in sign; a
    carry into the exponent is the correct next binade. A value already exact in bf16 is returned unchanged."""
    return ((x.view(torch.int32) + noise) & -65536).view(torch.float32)


def round_stochastic_(out: torch.Tensor, x: torch.Tensor, noise: torch.Tensor) -> None:
    """out (bf16) <- x (fp32) rounded stochastically (the truncated value is exact in bf16)."""
    out.copy_(stochastic_bits(x, noise))


class StochasticAdamW(torch.optim.Optimizer):
    """Decoupled-weight-decay Adam for bf16 (or fp32) parameters with fp32 moments; see the module docstring.

    `fused` (default: on CUDA) runs each chunk's update as one compiled elementwise kernel: it reads the weight,
    gradient and both moments once and writes weight and moments once (22 bytes per bf16 parameter), where the
    eager form makes about a dozen passes. Both forms compute the same function with the same noise."""

    def __init__(self, params, lr: float = 1e-5, betas=(0.9, 0.95), eps: float = 1e-8, weight_decay: float = 0.0,
                 offload: bool = False, seed: int = 0, fused: bool | None = None):
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})
        self.offload, self.seed = offload, seed
        self.fused = torch.cuda.is_available() if fused is None else fused

    def _state_of(self, p: torch.Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = torch.zeros((), dtype=torch.float32)
            if self.offload:
                local = _local(p)
                pin = torch.cuda.is_available()
                state["exp_avg"] = torch.zeros(local.shape, dtype=torch.float32, pin_memory=pin)
                state["exp_avg_sq"] = torch.zeros(local.shape, dtype=torch.float32, pin_memory=pin)
            else:
                state["exp_avg"] = torch.zeros_like(p, dtype=torch.float32)
                state["exp_avg_sq"] = torch.zeros_like(p, dtype=torch.float32)
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """torch casts every floating-point state tensor to its parameter's dtype on load, which would turn the
        fp32 moments of a bf16 parameter into bf16 on resume: load, then put the saved fp32 moments back."""
        saved_ids = [i for g in state_dict["param_groups"] for i in g["params"]]
        moments = {i: {k: v for k, v in state_dict["state"].get(i, {}).items() if k in MOMENTS} for i in saved_ids}
        super().load_state_dict(state_dict)
        params = [p for g in self.param_groups for p in g["params"]]
        for saved, p in zip(saved_ids, params):
            for key, value in moments[saved].items():
                if self.offload:
                    value = value.to("cpu", torch.float32, copy=True)
                    self.state[p][key] = value.pin_memory() if torch.cuda.is_available() else value
                else:
                    self.state[p][key] = value.to(dtype=torch.float32, device=p.device, copy=True)

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        number = 0
        for group in self.param_groups:
            for p in group["params"]:
                number += 1  # the parameter's place in the optimizer: part of its noise key
                if p.grad is not None:
                    self._update(p, self._state_of(p), group, number)
        if self.offload and torch.cuda.is_available():
            torch.cuda.current_stream().synchronize()  # the moments copied back must land before they are reused
        return loss

    def _update(self, p: torch.Tensor, state: dict, group: dict, number: int) -> None:
        state["step"] += 1
        step = int(state["step"].item())
        b1, b2 = group["betas"]
        lr, wd = float(group["lr"]), float(group["weight_decay"])
        flat_p, flat_g = _local(p).view(-1), _local(p.grad).view(-1)
        # hyperparameters as a device tensor: a compiled kernel takes new values without recompiling
        hyper = torch.tensor([lr, b1, b2, float(group["eps"]), wd, 1 - b1**step, 1 - b2**step],
                             dtype=torch.float32).to(flat_p.device, non_blocking=True)
        m, v = _local(state["exp_avg"]).view(-1), _local(state["exp_avg_sq"]).view(-1)
        update = _compiled() if self.fused and flat_p.is_cuda else adamw_chunk
        for lo in range(0, flat_p.numel(), CHUNK):
            hi = min(flat_p.numel(), lo + CHUNK)
            mc, vc = m[lo:hi], v[lo:hi]
            if self.offload:
                mc, vc = mc.to(flat_p.device, non_blocking=True), vc.to(flat_p.device, non_blocking=True)
            key = torch.tensor(noise_key(self.seed, step, number, lo), dtype=torch.int64).to(flat_p.device)
            update(flat_p[lo:hi], flat_g[lo:hi], mc, vc, hyper, key)
            if self.offload:
                m[lo:hi].copy_(mc, non_blocking=True)
                v[lo:hi].copy_(vc, non_blocking=True)


def noise_key(seed: int, step: int, number: int, offset: int) -> int:
    """A 32-bit key per (seed, step, parameter, chunk): a resumed run draws the same noise as an unbroken one."""
    key = (seed * 1_000_003 + step) * 1_000_033 + number
    return (key * 0x9E3779B1 + offset) & 0xFFFFFFFF


def hash_noise(n: int, key: torch.Tensor) -> torch.Tensor:
    """16 random bits per element from a counter-based integer hash of (element index, key): no generator state,
    so it fuses into the update kernel. The mixing is the 32-bit `hash32` finalizer (two multiply-xorshift
    rounds); products stay below 2**63 in int64."""
    x = (torch.arange(n, device=key.device, dtype=torch.int64) + key) & 0xFFFFFFFF
    x = (((x >> 16) ^ x) * 0x45D9F3B) & 0xFFFFFFFF
    x = (((x >> 16) ^ x) * 0x45D9F3B) & 0xFFFFFFFF
    return (((x >> 16) ^ x) & 0xFFFF).to(torch.int32)


def adamw_chunk(p: torch.Tensor, g: torch.Tensor, m: torch.Tensor, v: torch.Tensor, hyper: torch.Tensor,
                key: torch.Tensor) -> None:
    """One AdamW update of a flat chunk in fp32, written back to p (stochastically rounded if p is bf16) and to
    the moments m, v in place. Written as one expression chain so that torch.compile makes it one kernel."""
    lr, b1, b2, eps, wd, bc1, bc2 = hyper.unbind(0)
    gf = g.float()
    m_new = m + (gf - m) * (1 - b1)
    v_new = v * b2 + gf * gf * (1 - b2)
    x = p.float() * (1 - lr * wd) - (lr / bc1) * m_new / ((v_new / bc2).sqrt() + eps)
    m.copy_(m_new)
    v.copy_(v_new)
    if p.dtype == torch.bfloat16:
        p.copy_(stochastic_bits(x, hash_noise(x.numel(), key)))
    else:
        p.copy_(x)


_COMPILED = None


def _compiled():
    """adamw_chunk compiled once for every chunk length (dynamic shapes), on first use."""
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = torch.compile(adamw_chunk, dynamic=True, fullgraph=True)
    return _COMPILED


def bytes_per_param(master: str, offload: bool) -> int:
    """GPU bytes per parameter held across a step: weight + gradient + the moments that stay on the GPU."""
    if master == "fp32":
        return 16
    return 4 if offload else 12
