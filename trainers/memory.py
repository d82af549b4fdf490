"""`--memory auto`: the fastest memory setting whose estimate fits the GPU's free memory.

A setting is (master weights, activation checkpointing, optimizer offload). Settings are tried fastest
first; each is costed with a closed-form estimate of the bytes held at the peak of a step (the end of the
forward of one packed row):

- states: bytes per parameter (optim.bytes_per_param: 16 fp32 master, 12 bf16 + fp32 moments, 4 offloaded)
  over the FSDP shard count; fp32 master also keeps the bf16 autocast copies of the weights for backward;
- activations: a decoder layer saves about 7·d + 3·i + 2·kv_dim bf16 values per token for its backward
  (norm inputs/outputs, q/k/v, attention output, residuals, gate/up/product of the MLP); a checkpointed
  layer keeps only its d-wide input, a selectively checkpointed one also its attention output and
  logsumexp (q_dim bf16 + heads fp32), and one layer is recomputed at a time;
- the vocabulary head: one loss chunk of fp32 logits plus its bf16 gradient, and the fp32 dW accumulator;
- a reserve for cuBLAS/flash workspaces and allocator fragmentation.

Checked against the issue's figures: fp32 master without checkpointing at 8,192 tokens, 4 rows accumulated,
measured 97.9 GiB, estimate 97.5. With one row per step the gradients do not exist at the end of the forward
(they are set to None after every step and grow only as activations are freed), so they are not counted then:
round 1 counted them and estimated 77.3 GiB for a 64k setting that peaked at 63.3.

Among the settings that fit, auto takes the one of least modelled cost per step (`cost`): recomputed FLOPs at
a sustained 400 TFLOP/s plus the moments' PCIe round trip at 25 GB/s when offloaded; ties go to the earlier
candidate. A model to rank settings, not a measurement: docs/benchmarks.md (issue 26) has the measured ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from synth.trainers.optim import bytes_per_param

GIB = 2**30
RESERVE = 3 * GIB
SUSTAINED_FLOPS = 400e12  # recomputation runs at about half the nominal bf16 peak of an H100/H200
PCIE_BYTES_S = 25e9       # pinned host <-> device copies, both ways, as measured on the lent H100s' class of host


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
    q_dim: int = 0
    heads: int = 0

    @classmethod
    def from_config(cls, c: dict) -> Shape:
        d, i, n = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
        hd = c.get("head_dim") or d // c["num_attention_heads"]
        q, kv = c["num_attention_heads"] * hd, c.get("num_key_value_heads", c["num_attention_heads"]) * hd
        layer = d * (2 * q + 2 * kv) + 3 * d * i + 2 * d
        head = 0 if c.get("tie_word_embeddings") else c["vocab_size"] * d
        return cls(d, i, n, kv, c["vocab_size"], n * layer + c["vocab_size"] * d + head + d, q,
                   c["num_attention_heads"])

    @property
    def layer_params(self) -> int:
        return self.hidden * (2 * self.q_dim + 2 * self.kv_dim) + 3 * self.hidden * self.intermediate


def checkpointed_layers(spec: str, layers: int) -> int:
    return 0 if spec == "none" else layers if spec in ("full", "selective") else min(layers, int(spec))


def estimate(shape: Shape, setting: Setting, tokens: int, loss_chunk: int, shards: int = 1, accum: int = 2) -> int:
    """Peak GPU bytes of one training step (tokens: the row length each rank processes; accum: rows per step)."""
    per_param = bytes_per_param(setting.master, setting.offload)
    if accum == 1:  # no gradient exists yet at the end of the only forward of a step
        per_param -= 4 if setting.master == "fp32" else 2
    states = per_param * shape.params / shards
    if setting.master == "fp32":
        states += 2 * shape.params / shards
    per_layer = 2 * (7 * shape.hidden + 3 * shape.intermediate + 2 * shape.kv_dim) * tokens
    ckpt = checkpointed_layers(setting.checkpointing, shape.layers)
    kept = 2 * shape.hidden * tokens
    if setting.checkpointing == "selective":
        kept += (2 * shape.q_dim + 4 * shape.heads) * tokens
    acts = (shape.layers - ckpt) * per_layer + ckpt * kept + (per_layer if ckpt else 0)
    head = min(loss_chunk, tokens) * shape.vocab * 6 + shape.vocab * shape.hidden * 4
    return int(states + acts + head + RESERVE)


def cost(shape: Shape, setting: Setting, tokens: int) -> float:
    """Modelled seconds a setting adds to a step: recomputed forward FLOPs (a full layer also recomputes its
    attention, 4·d·S per token with S ~ tokens/2 for documents that fill the row; a selective layer does not)
    plus the optimizer moments' round trip over PCIe when offloaded (16 bytes per parameter)."""
    matmul = 2 * shape.layer_params
    attention = 4 * shape.hidden * tokens / 2
    layers = checkpointed_layers(setting.checkpointing, shape.layers)
    per_token = layers * (matmul if setting.checkpointing == "selective" else matmul + attention)
    seconds = per_token * tokens / SUSTAINED_FLOPS
    return seconds + (16 * shape.params / PCIE_BYTES_S if setting.offload else 0.0)


def candidates(layers: int) -> list[Setting]:
    """No recomputation first, fp32 master before bf16 at equal recomputation, then more checkpointed layers,
    then selective and full checkpointing, then the same with the moments moved to the CPU."""
    out = [Setting("fp32", "none", False), Setting("bf16", "none", False)]
    out += [Setting("bf16", str(k), False) for k in range(2, layers, 2)]
    out += [Setting("bf16", "selective", False), Setting("bf16", "full", False)]
    return out + [Setting("bf16", "selective", True), Setting("bf16", "full", True)]


def choose(shape: Shape, tokens: int, loss_chunk: int, free_bytes: int, shards: int = 1,
           accum: int = 2) -> tuple[Setting, int, bool]:
    """(setting, its estimate, fits): the fitting candidate of least modelled cost, else the most frugal one."""
    options = candidates(shape.layers)
    need = {s: estimate(shape, s, tokens, loss_chunk, shards, accum) for s in options}
    fitting = [s for s in options if need[s] <= free_bytes]
    if not fitting:
        frugal = min(options, key=need.get)
        return frugal, need[frugal], False
    best = min(fitting, key=lambda s: cost(shape, s, tokens))  # min keeps the earliest of equal cost
    return best, need[best], True


def fixed(cfg) -> Setting:
    return Setting(cfg.master_weights, str(cfg.activation_checkpointing), bool(cfg.offload_optimizer))


def usable_bytes(device) -> int:
    """Free GPU memory, within the process's cap when one is set (torch.cuda.set_per_process_memory_fraction:
    e.g. to plan for an 80 GB card on a larger one, or to share a card)."""
    import torch

    free, total = torch.cuda.mem_get_info(device)
    fraction = torch.cuda.get_per_process_memory_fraction(device)
    return int(min(free, fraction * total - torch.cuda.memory_reserved(device)))


def resolve(cfg, model_config: dict, device, shards: int = 1, tokens: int | None = None) -> dict:
    """Apply `--memory auto` on CUDA (writes the chosen setting into cfg); returns what was chosen and why."""
    # grpo starts its rollout engine after the model and sizes it by its own share (--rollout-memory): the
    # free memory seen here is not the trainer's to spend, so grpo keeps the flags as given.
    if cfg.memory != "auto" or device.type != "cuda" or cfg.mode == "grpo":
        return {"mode": "fixed", **asdict(fixed(cfg))}
    shape = Shape.from_config(model_config)
    free = usable_bytes(device)
    setting, need, fits = choose(shape, tokens or cfg.seq_len, cfg.loss_chunk, free, shards, cfg.grad_accum or 2)
    cfg.master_weights, cfg.activation_checkpointing, cfg.offload_optimizer = (
        setting.master, setting.checkpointing, setting.offload)
    return {"mode": "auto", **asdict(setting), "estimate_gib": round(need / GIB, 1),
            "free_gib": round(free / GIB, 1), "fits": fits, "chosen": setting.describe()}
