"""The model side: load or random-init an HF model, run it over packed rows, shard, compile, save.

`PackedLM` holds the HF model's own submodules under the HF names (`model.*`, `lm_head.*` or `score.*`),
so its state dict *is* the HF state dict, and runs the HF decoder layers unchanged; only attention is
routed to `synth_packed` (attention.py). Precision: fp32 master weights; on one device bf16 compute comes
from autocast, under FSDP2 from its MixedPrecisionPolicy (bf16 params, fp32 gradient reduction).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from synth.trainers import attention
from torch import nn

SUPPORTED = ("llama", "mistral", "qwen2", "qwen3")


@dataclass
class Batch:
    """One packed row on the device (see packing.Row); `sel*` are the supervised positions only."""

    input_ids: torch.Tensor      # [1, T]
    position_ids: torch.Tensor   # [1, T]
    cu_seqlens: torch.Tensor     # [segments + 1] int32
    seq_ids: torch.Tensor        # [T] int32
    sel: torch.Tensor            # [k] positions with weight > 0
    sel_targets: torch.Tensor    # [k]
    sel_weights: torch.Tensor    # [k] float32
    sel_slot: torch.Tensor       # [k] sample number of each supervised position
    last: torch.Tensor           # [samples] last-token position of each sample
    n_samples: int
    n_sel: int
    real_tokens: int
    items: list[int]             # item indices packed in this row (pairs for dpo/rm)
    extra: dict = field(default_factory=dict)  # mode-specific tensors (reference log-probs, margins)


class PackedLM(nn.Module):
    def __init__(self, hf: nn.Module, backend: str, compute_dtype: torch.dtype | None):
        super().__init__()
        if hf.config.model_type not in SUPPORTED:
            raise ValueError(f"model_type {hf.config.model_type!r} is not supported (supported: {', '.join(SUPPORTED)})")
        self.model = hf.model
        self.head_name = "score" if hasattr(hf, "score") else "lm_head"
        setattr(self, self.head_name, getattr(hf, self.head_name))
        self.__dict__["hf"] = hf  # the HF wrapper (config, save_pretrained) stays outside the module tree
        self.backend = backend
        self.compute_dtype = compute_dtype  # autocast dtype on one device; None under FSDP or fp32
        self.checkpointed: set[int] = set()
        self.cp = None  # context_parallel.Group when a row is split over ranks by tokens
        hf.config._attn_implementation = attention.register()

    @property
    def head(self) -> nn.Module:
        return getattr(self, self.head_name)

    def _attn_kwargs(self, batch: Batch) -> dict[str, Any]:
        kw: dict[str, Any] = {"synth_backend": self.backend}
        if self.cp is not None:
            kw["synth_cp"] = self.cp
        if self.backend == "varlen":
            kw.update(synth_cu_seqlens=batch.cu_seqlens, synth_max_len=int(batch.seq_ids.shape[0]))
        elif self.backend == "flex":
            kw["synth_block_mask"] = attention.block_mask(batch.seq_ids)
        else:
            kw["synth_dense_mask"] = attention.dense_mask(batch.seq_ids)
        return kw

    def hidden(self, batch: Batch) -> torch.Tensor:
        """Final normed hidden states [T, d] of one packed row."""
        m = self.model
        h = m.embed_tokens(batch.input_ids)
        if self.compute_dtype is not None:
            h = h.to(self.compute_dtype)
        pos = m.rotary_emb(h, batch.position_ids)
        kw = self._attn_kwargs(batch)
        for i, layer in enumerate(m.layers):
            if i in self.checkpointed and torch.is_grad_enabled():
                out = torch.utils.checkpoint.checkpoint(layer, h, use_reentrant=False, position_embeddings=pos, **kw)
            else:
                out = layer(h, position_embeddings=pos, **kw)
            h = out[0] if isinstance(out, tuple) else out
        return m.norm(h)[0]

    def forward(self, batch: Batch, objective: Callable, scale: float):
        ctx = (torch.autocast(batch.input_ids.device.type, dtype=self.compute_dtype)
               if self.compute_dtype is not None else nullcontext())
        with ctx:
            h = self.hidden(batch)
        return objective(self, h, batch, scale)


def matmul_params(module: nn.Module) -> int:
    """Parameters of matrix multiplies (every 2-D weight but the input embedding), for FLOPs/token."""
    return sum(p.numel() for n, p in module.named_parameters() if p.ndim == 2 and "embed_tokens" not in n)


def load_tokenizer(path: str, chat_template: str | None = None):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if chat_template:
        tok.chat_template = Path(chat_template).read_text(encoding="utf-8")
    return tok


def build_hf(mode: str, model_path: str | None, config: dict | None, seed: int, device: torch.device,
             min_vocab: int = 0, pad: int | None = None) -> nn.Module:
    """fp32 HF model on `device`: from a directory, or random init from a config dict (vocab >= min_vocab)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification

    cls = AutoModelForSequenceClassification if mode == "rm" else AutoModelForCausalLM
    extra = {"num_labels": 1} if mode == "rm" else {}
    torch.manual_seed(seed)
    if model_path is not None:
        hf = cls.from_pretrained(model_path, dtype=torch.float32, **extra).to(device)
    else:
        values = {k: v for k, v in config.items() if k not in ("architectures", "torch_dtype", "dtype")}
        cfg = AutoConfig.for_model(values.pop("model_type"), **values, **extra)
        cfg.vocab_size = max(cfg.vocab_size, min_vocab)
        with device:
            hf = cls.from_config(cfg, dtype=torch.float32)
    if hf.config.pad_token_id is None and pad is not None:
        hf.config.pad_token_id = pad
    return hf


def pad_id(tokenizer) -> int:
    for value in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if value is not None:
            return int(value)
    return 0


def apply_precision(hf: nn.Module, precision: str, master: str, world: int = 1) -> torch.dtype | None:
    """Cast the weights for `--master-weights bf16`; returns the autocast dtype PackedLM needs (None: none).

    fp32 master on one device computes in bf16 under autocast; under FSDP2 its MixedPrecisionPolicy casts
    instead. bf16 master weights are bf16 everywhere (RMSNorm and softmax still upcast inside)."""
    if precision != "bf16":
        return None
    if master == "bf16":
        hf.to(torch.bfloat16)
        return None
    return torch.bfloat16 if world == 1 else None


def checkpoint_layers(model: PackedLM, spec: str) -> None:
    """none | full | N (the first N layers recomputed whole) | selective (every layer recomputed except its attention
    kernel, whose output and logsumexp are kept: at long context attention is most of a layer's forward FLOPs,
    and its output only 2·d bytes per token)."""
    n = len(model.model.layers)
    if spec == "selective":
        model.checkpointed = set()
        for layer in model.model.layers:
            layer.__class__ = _selective_class(type(layer))
        return
    for layer in model.model.layers:  # a layer made selective before goes back to its own class
        if type(layer).__name__.startswith("Selective"):
            layer.__class__ = type(layer).__mro__[1]
    count = 0 if spec == "none" else n if spec == "full" else min(n, int(spec))
    model.checkpointed = set(range(count))


def _save_attention(ctx, func, *args, **kwargs):
    """Selective-checkpoint policy: keep what the attention kernels return, recompute everything else."""
    from torch.utils.checkpoint import CheckpointPolicy

    return CheckpointPolicy.MUST_SAVE if func in _attention_ops() else CheckpointPolicy.PREFER_RECOMPUTE


def _attention_ops() -> set:
    aten = torch.ops.aten
    return {torch.ops.synth.flash_varlen.default, aten._scaled_dot_product_flash_attention.default,
            aten._scaled_dot_product_efficient_attention.default, aten._scaled_dot_product_flash_attention_for_cpu.default}


def _selective_context():
    from torch.utils.checkpoint import create_selective_checkpoint_contexts

    return create_selective_checkpoint_contexts(_save_attention)


_SELECTIVE: dict[type, type] = {}


def _selective_class(base: type) -> type:
    """A subclass of the decoder layer whose forward runs under a selective checkpoint. A class, not a per-layer
    wrapper: the state dict keeps its HF names, and torch.compile traces one forward for all layers (the
    checkpoint sits inside the compiled region, which is where the compiler honours the policy)."""
    if base.__name__.startswith("Selective"):
        return base
    if base not in _SELECTIVE:
        def forward(self, *args, **kwargs):
            if not torch.is_grad_enabled():  # evaluation: nothing to keep for a backward
                return base.forward(self, *args, **kwargs)
            return torch.utils.checkpoint.checkpoint(base.forward, self, *args, use_reentrant=False,
                                                     context_fn=_selective_context, **kwargs)

        _SELECTIVE[base] = type(f"Selective{base.__name__}", (base,), {"forward": forward})
    return _SELECTIVE[base]


def compile_layers(model: PackedLM) -> None:
    """Regional compilation: each decoder layer is compiled in place (same code, so compiled once).

    Shapes are static (rows have a fixed length) except the segment count of cu_seqlens, which make_batch
    marks dynamic; the recompile limit is raised so a model deeper than the default limit never falls
    back to eager silently."""
    import torch._dynamo

    for name in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit", "accumulated_recompile_limit"):
        if hasattr(torch._dynamo.config, name):
            setattr(torch._dynamo.config, name, max(256, getattr(torch._dynamo.config, name)))
    for layer in model.model.layers:
        layer.compile()


def shard(model: PackedLM, mesh, param_dtype: torch.dtype | None) -> None:
    """FSDP2: one unit per decoder layer, the root holds embeddings, final norm and head."""
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    mp = MixedPrecisionPolicy(param_dtype=param_dtype, reduce_dtype=torch.float32)
    for unit in list(model.model.layers) + [model]:
        fully_shard(unit, mesh=mesh, mp_policy=mp)
