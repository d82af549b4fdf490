"""`--memory auto`: the fastest memory setting whose estimate fits the GPU's free memory.

A setting is (master weights, activation checkpointing, optimizer offload). Settings are tried fastest
first; each is costed with a closed-form estimate of the bytes held at the peak of a step (the end of the
forward of one packed row):

- states: bytes per parameter (optim.bytes_per_param: 16 fp32 master, 12 bf16 + fp32 moments, 4 offloaded)
  over the FSDP shard count; fp32 master also keeps the bf16 autocast copies of the weights for backward;
- activations: a decoder layer saves about 7·d + 3·i + 2·kv_dim bf16 values per token for its backward
  (norm inputs/outputs, q/k/v, attention output, residuals, gate/up/product of the MLP); a checkpointed
  layer keeps only its d-wide input, and one layer is recomputed at a time;
- the vocabulary head: one loss chunk of fp32 logits plus its bf16 gradient, and the fp32 dW accumulator;
- a reserve for cuBLAS/flash workspaces and allocator fragmentation.

Checked against the issue's figures: fp32 master without checkpointing at 8,192 tokens, 4 rows accumulated,
measured 97.9 GiB, estimate 97.5. The estimate is conservative where gradients and activations do not
coincide (one row per step with full checkpointing: gradients grow only as activations are freed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from synth.trainers.optim import bytes_per_param

GIB = 2**30
RESERVE = 3 * GIB


@dataclass(frozen=True)
class Setting:
    master: str          # fp32 | bf16
    checkpointing: str   # none | full | N (first N layers recomputed)
    offload: bool        # AdamW moments in pinned CPU memory

    def describe(self) -> str:
        off = ", optimizer state offloaded to CPU" if self.offload else ""
        weights = "fp32 master weights" if self.master == "fp32" else "bf16 weights + fp32 AdamW moments, stochastic rounding"
        return f"{weights}, activation checkpointing {self.checkpointing}{off}"


@dataclass(frozen=True)
class Shape:
    hidden: int
    intermediate: int
    layers: int
    kv_dim: int
    vocab: int
    params: int

    @classmethod
    def from_config(cls, c: dict) -> Shape:
        d, i, n = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
        hd = c.get("head_dim") or d // c["num_attention_heads"]
        q, kv = c["num_attention_heads"] * hd, c.get("num_key_value_heads", c["num_attention_heads"]) * hd
        layer = d * (2 * q + 2 * kv) + 3 * d * i + 2 * d
        head = 0 if c.get("tie_word_embeddings") else c["vocab_size"] * d
        return cls(d, i, n, kv, c["vocab_size"], n * layer + c["vocab_size"] * d + head + d)


def checkpointed_layers(spec: str, layers: int) -> int:
    return 0 if spec == "none" else layers if spec == "full" else min(layers, int(spec))


def estimate(shape: Shape, setting: Setting, tokens: int, loss_chunk: int, shards: int = 1) -> int:
    """Peak GPU bytes of one training step (tokens: the row length each rank processes)."""
    states = bytes_per_param(setting.master, setting.offload) * shape.params / shards
    if setting.master == "fp32":
        states += 2 * shape.params / shards
    per_layer = 2 * (7 * shape.hidden + 3 * shape.intermediate + 2 * shape.kv_dim) * tokens
    ckpt = checkpointed_layers(setting.checkpointing, shape.layers)
    acts = (shape.layers - ckpt) * per_layer + ckpt * 2 * shape.hidden * tokens + (per_layer if ckpt else 0)
    head = min(loss_chunk, tokens) * shape.vocab * 6 + shape.vocab * shape.hidden * 4
    return int(states + acts + head + RESERVE)


def candidates(layers: int) -> list[Setting]:
    """Fastest first: no recomputation before any, fp32 master before bf16 at equal recomputation, then more
    checkpointed layers, then the moments moved to the CPU."""
    out = [Setting("fp32", "none", False), Setting("bf16", "none", False)]
    out += [Setting("bf16", str(k), False) for k in range(2, layers, 2)]
    return out + [Setting("bf16", "full", False), Setting("bf16", "full", True)]


def choose(shape: Shape, tokens: int, loss_chunk: int, free_bytes: int, shards: int = 1) -> tuple[Setting, int, bool]:
    """(setting, its estimate, fits): the first candidate under the free memory, else the most frugal one."""
    options = candidates(shape.layers)
    for setting in options:
        need = estimate(shape, setting, tokens, loss_chunk, shards)
        if need <= free_bytes:
            return setting, need, True
    return options[-1], estimate(shape, options[-1], tokens, loss_chunk, shards), False


def fixed(cfg) -> Setting:
    return Setting(cfg.master_weights, str(cfg.activation_checkpointing), bool(cfg.offload_optimizer))


def resolve(cfg, model_config: dict, device, shards: int = 1, tokens: int | None = None) -> dict:
    """Apply `--memory auto` on CUDA (writes the chosen setting into cfg); returns what was chosen and why."""
    import torch

    # grpo starts its rollout engine after the model and sizes it by its own share (--rollout-memory): the
    # free memory seen here is not the trainer's to spend, so grpo keeps the flags as given.
    if cfg.memory != "auto" or device.type != "cuda" or cfg.mode == "grpo":
        return {"mode": "fixed", **asdict(fixed(cfg))}
    shape = Shape.from_config(model_config)
    free = torch.cuda.mem_get_info(device)[0]
    setting, need, fits = choose(shape, tokens or cfg.seq_len, cfg.loss_chunk, free, shards)
    cfg.master_weights, cfg.activation_checkpointing, cfg.offload_optimizer = (
        setting.master, setting.checkpointing, setting.offload)
    return {"mode": "auto", **asdict(setting), "estimate_gib": round(need / GIB, 1),
            "free_gib": round(free / GIB, 1), "fits": fits, "chosen": setting.describe()}
