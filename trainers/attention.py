"""Block-diagonal causal attention over packed rows, plugged into transformers' attention registry.

The HF decoder layers run unchanged; only their attention call is routed here (`synth_packed`), with the
row's segment layout passed as keyword arguments. Backends:
- varlen: FlashAttention-2 varlen kernel that ships inside PyTorch's CUDA build (aten
  `_flash_attention_forward/backward`), wrapped as a custom op so torch.compile treats it as one opaque
  node. Work is proportional to sum(len_i^2), not T^2, and GQA needs no repeated K/V.
- flex: torch flex_attention with a document-causal BlockMask (any device; compiled on CUDA).
- sdpa: scaled_dot_product_attention with a dense block-diagonal mask; the exact reference (CPU tests).
"""

from __future__ import annotations

import torch

NAME = "synth_packed"
_registered = False


@torch.library.custom_op("synth::flash_varlen", mutates_args=())
def flash_varlen(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cu: torch.Tensor, max_len: int,
                 scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """q [T, H, D], k/v [T, Hkv, D] -> (out [T, H, D], logsumexp [H, T]); causal within each segment."""
    out, lse = torch.ops.aten._flash_attention_forward(
        q, k, v, cu, cu, max_len, max_len, 0.0, True, False, scale=scale)[:2]
    return out, lse


@flash_varlen.register_fake
def _(q, k, v, cu, max_len, scale):
    return torch.empty_like(q), q.new_empty((q.shape[1], q.shape[0]), dtype=torch.float32)


@torch.library.custom_op("synth::flash_varlen_bwd", mutates_args=())
def flash_varlen_bwd(grad: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, out: torch.Tensor,
                     lse: torch.Tensor, cu: torch.Tensor, max_len: int,
                     scale: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    # dropout is 0, so the philox seed/offset are never read; placeholders of the documented shapes.
    seed = torch.zeros(2, dtype=torch.uint64, device=q.device)
    offset = torch.empty(0, device=q.device)
    dq, dk, dv = torch.ops.aten._flash_attention_backward(
        grad.contiguous(), q, k, v, out, lse, cu, cu, max_len, max_len, 0.0, True, seed, offset, scale=scale)
    return dq, dk, dv


@flash_varlen_bwd.register_fake
def _(grad, q, k, v, out, lse, cu, max_len, scale):
    return torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)


def _setup(ctx, inputs, output):
    q, k, v, cu, max_len, scale = inputs
    ctx.save_for_backward(q, k, v, output[0], output[1], cu)
    ctx.max_len, ctx.scale = max_len, scale


def _backward(ctx, grad_out, grad_lse):
    q, k, v, out, lse, cu = ctx.saved_tensors
    dq, dk, dv = flash_varlen_bwd(grad_out, q, k, v, out, lse, cu, ctx.max_len, ctx.scale)
    return dq, dk, dv, None, None, None


flash_varlen.register_autograd(_backward, setup_context=_setup)


def block_mask(seq_ids: torch.Tensor):
    """Document-causal BlockMask for flex_attention (seq_ids: [T])."""
    from torch.nn.attention.flex_attention import create_block_mask

    def doc_causal(b, h, q_idx, kv_idx):
        return (seq_ids[q_idx] == seq_ids[kv_idx]) & (q_idx >= kv_idx)

    n = seq_ids.shape[0]
    return create_block_mask(doc_causal, None, None, n, n, device=seq_ids.device, _compile=seq_ids.is_cuda)


def dense_mask(seq_ids: torch.Tensor) -> torch.Tensor:
    """[1, 1, T, T] boolean block-diagonal causal mask (True = attend)."""
    n = seq_ids.shape[0]
    same = seq_ids[:, None] == seq_ids[None, :]
    causal = torch.ones(n, n, dtype=torch.bool, device=seq_ids.device).tril()
    return (same & causal)[None, None]


_flex = None


def _flex_attention():
    global _flex
    if _flex is None:
        from torch.nn.attention.flex_attention import flex_attention

        _flex = torch.compile(flex_attention) if torch.cuda.is_available() else flex_attention
    return _flex


def packed_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """HF attention interface: query [1, H, T, D], key/value [1, Hkv, T, D] -> ([1, T, H, D], None).

    Under context parallelism (`synth_cp`), T is this rank's slice: all-to-alls trade it for all tokens of
    a share of the heads around the kernel (context_parallel.py)."""
    backend = kwargs.get("synth_backend")
    if backend is None:  # a plain HF call (generation, reference checks): behave like sdpa
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, dropout=dropout,
                                      **kwargs)
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    cp = kwargs.get("synth_cp")
    if cp is None:
        return _attend(backend, query, key, value, scale, kwargs), None
    from synth.trainers import context_parallel as C

    query, key, value = (C.heads_to_sequence(x, cp) for x in (query, C.expand_kv(key, cp), C.expand_kv(value, cp)))
    return C.sequence_to_heads(_attend(backend, query, key, value, scale, kwargs), cp), None


def _attend(backend: str, query, key, value, scale: float, kwargs: dict) -> torch.Tensor:
    if backend == "varlen":
        q, k, v = (x[0].transpose(0, 1) for x in (query, key, value))  # [T, H, D]
        out, _ = flash_varlen(q, k, v, kwargs["synth_cu_seqlens"], kwargs["synth_max_len"], scale)
        return out[None]
    if backend == "flex":
        out = _flex_attention()(query, key, value, block_mask=kwargs["synth_block_mask"], scale=scale,
                                enable_gqa=key.shape[1] != query.shape[1])
    else:
        groups = query.shape[1] // key.shape[1]
        key, value = (x.repeat_interleave(groups, dim=1) for x in (key, value))
        out = torch.nn.functional.scaled_dot_product_attention(
            query, key, value, attn_mask=kwargs["synth_dense_mask"], scale=scale)
    return out.transpose(1, 2)


def register() -> str:
    """Make `synth_packed` a valid `config._attn_implementation` (idempotent)."""
    global _registered
    if not _registered:
        from transformers import AttentionInterface

        AttentionInterface.register(NAME, packed_attention)
        _registered = True
    return NAME


def resolve_backend(requested: str, device: torch.device) -> str:
    if requested != "auto":
        if requested == "varlen" and device.type != "cuda":
            raise ValueError("--attention varlen needs a CUDA device")
        return requested
    return "varlen" if device.type == "cuda" else "sdpa"
