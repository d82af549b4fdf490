"""`synth train` configuration: one typed dataclass, one field per flag (help in `metadata`).

Keys of a `--config FILE` are the field names; flags win over the file. `validate` turns a bad combination
into a `UserError` (one line, exit 2) before anything heavy is imported.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from synth.errors import UserError

MODES = ("sft", "dpo", "rm", "grpo")
ATTENTION = ("auto", "varlen", "flex", "sdpa")
PRECISION = ("bf16", "fp32")


def _f(default: Any, help: str) -> Any:
    """A dataclass field with its flag help (immutable defaults only)."""
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    data: list[str] = field(default_factory=list, metadata={
        "help": "Input datasets: trajectory records (sft) or preference_pair records (dpo, rm)."})
    out: str = _f("", "Output directory: HF model, tokenizer, train_log.jsonl, manifest.json, checkpoints/.")
    mode: str = _f("sft", "sft | dpo | rm (Bradley-Terry reward model) | grpo (RL; options below, trainers/rl/).")
    model: str | None = _f(None, "HF model directory to start from.")
    from_config: str | None = _f(None, "Random init from a shipped config name (tiny, nanbeige4.1-3b) or a config.json.")
    tokenizer: str | None = _f(None, "Tokenizer directory (default: --model; with --from-config, a byte-level BPE "
                               "trained on --data, saved with the model).")
    chat_template: str | None = _f(None, "Jinja chat template file overriding the tokenizer's.")
    seq_len: int = _f(8192, "Tokens per packed row; longer samples are rejected (too_long).")
    batch_tokens: int | None = _f(None, "Target tokens per optimizer step (sets --grad-accum when that is unset).")
    grad_accum: int | None = _f(None, "Packed rows per optimizer step on each rank.")
    lr: float = _f(1e-5, "Peak learning rate.")
    min_lr_ratio: float = _f(0.1, "Cosine decay floor, as a fraction of --lr.")
    warmup: int = _f(0, "Linear warmup steps.")
    weight_decay: float = _f(0.0, "AdamW weight decay (not applied to norms and biases).")
    betas: list[float] = field(default_factory=lambda: [0.9, 0.95], metadata={"help": "AdamW betas."})
    max_grad_norm: float = _f(1.0, "Gradient clipping norm (0 disables).")
    steps: int | None = _f(None, "Optimizer steps (default: --epochs over the data).")
    epochs: float = _f(1.0, "Passes over the training data when --steps is unset.")
    seed: int = _f(0, "Seed for init, shuffling and packing order.")
    eval_fraction: float = _f(0.0, "Held-out fraction of records (chosen by id hash) for eval loss.")
    eval_every: int | None = _f(None, "Evaluate every N steps (default: only at the end).")
    save_every: int | None = _f(None, "Write a resumable checkpoint every N steps (default: only at the end).")
    checkpoint_at_end: bool = _f(True, "Write a resumable checkpoint after the last step.")
    resume: bool = _f(True, "Resume from the newest checkpoint in --out/checkpoints when one exists.")
    force: bool = _f(False, "Resume even though the resolved config changed.")
    attention: str = _f("auto", "auto | varlen (flash, CUDA) | flex | sdpa (block-diagonal mask).")
    compile: bool | None = _f(None, "torch.compile each decoder layer (default: on for CUDA).")
    activation_checkpointing: str = _f("none", "none | full | N (recompute the first N layers) | selective (recompute all but attention); --memory fixed.")
    precision: str = _f("bf16", "bf16 (bf16 compute) | fp32.")
    memory: str = _f("auto", "auto: on CUDA pick the fastest of (--master-weights, --activation-checkpointing, "
                     "--offload-optimizer) whose estimate fits the free GPU memory, and log it | fixed: as given.")
    master_weights: str = _f("fp32", "fp32 (fp32 weights + AdamW, bf16 autocast; 16 B/param) | bf16 (bf16 weights, "
                             "fp32 AdamW moments, stochastic rounding of each update; 12 B/param). --precision bf16.")
    offload_optimizer: bool = _f(False, "Keep the AdamW moments in pinned CPU memory, streamed through the GPU at "
                                 "step time (one GPU only).")
    context_parallel: int = _f(1, "sft: ranks that share one packed row, split by tokens (all-to-all attention); "
                               "must divide the rank count and --seq-len, and the attention heads.")
    truncate: bool = _f(False, "Cut sequences longer than --seq-len to --seq-len (counted as `truncated`) instead "
                        "of rejecting them as too_long.")
    loss_chunk: int = _f(4096, "Tokens per cross-entropy chunk; the full logits are never materialized.")
    dpo_beta: float = _f(0.1, "DPO temperature.")
    use_margin: bool = _f(False, "dpo/rm: subtract the record's `margin` inside the sigmoid.")
    log_every: int = _f(1, "Write a train_log.jsonl line every N steps.")
    peak_tflops: float = _f(790.0, "Per-GPU dense bf16 peak for MFU (measured H100/H200 ceiling).")
    mfu_context: int = _f(4096, "Context length in the attention term of FLOPs/token (12*L*d*ctx).")
    save_dtype: str = _f("bf16", "dtype of the saved model weights: bf16 | fp32.")
    device: str = _f("auto", "auto | cpu | cuda.")
    workers: int = _f(1, "Processes for chat-template rendering.")
    report_to: str = _f("none", "Also send metrics to none | tensorboard | wandb (comma list; OUT/tensorboard/, "
                        "OUT/wandb/); needs that package installed. OUT/metrics.jsonl is always written.")
    # -- grpo (trainers/rl/): rollouts from the current policy, group-relative advantages ------------------
    task: str = _f("auto", "grpo: code (code_problem records) | search (rl_task records, agent rollouts) | "
                   "prompts (records with `prompt` + --reward) | auto (from the dataset kind).")
    stage: str = _f("correctness", "grpo code: correctness (format + pass rate) | complexity (+ the time reward, "
                    "granted only when every test passes).")
    reward: str | None = _f(None, "grpo prompts: reward function `module:function(record, completion_text)` "
                            "returning a float or a dict with `total` (and optional `passed`).")
    group_size: int = _f(8, "grpo: rollouts per prompt (the group of the group-relative advantage).")
    prompts_per_step: int = _f(8, "grpo: prompts per rollout batch.")
    max_new_tokens: int = _f(1024, "grpo: tokens per completion (per turn for search); longer ones are truncated.")
    temperature: float = _f(1.0, "grpo: sampling temperature of the rollouts.")
    top_p: float = _f(1.0, "grpo: nucleus sampling of the rollouts.")
    clip_eps: float = _f(0.2, "grpo: lower clip of the importance ratio (1 - eps).")
    clip_eps_high: float = _f(0.28, "grpo: upper clip of the importance ratio (1 + eps_high; DAPO clip-higher).")
    kl_beta: float = _f(0.0, "grpo: weight of the KL penalty to the starting policy (k3 estimator); 0 = no reference model.")
    scale_rewards: bool = _f(True, "grpo: divide advantages by the group's reward std (false: Dr. GRPO).")
    grpo_updates: int = _f(1, "grpo: optimizer steps per rollout batch (minibatches by group; >1 is off-policy, clipped).")
    mask_truncated: bool = _f(True, "grpo: truncated completions carry no loss (overlong filtering).")
    keep_pass: str | None = _f(None, "grpo: keep prompts the current policy solves LO..HI times out of N, e.g. 1:5/8.")
    refilter_every: int | None = _f(None, "grpo: recompute the --keep-pass filter every N steps (default: once).")
    rollout_engine: str = _f("auto", "grpo: vllm (in-process engine, weights synced each step) | hf (transformers "
                             "generate) | auto (vllm when installed, else hf).")
    rollout_memory: float = _f(0.1, "grpo vllm: gpu_memory_utilization (on CPU: share of RAM for the KV cache).")
    turn_credit: float = _f(0.5, "grpo search: share of the turn-judge advantage in each turn's advantage.")
    max_turns: int = _f(8, "grpo search: model turns per rollout.")
    corpus: str | None = _f(None, "grpo search: corpus directory (default: each task's environment.corpus).")
    tool_format: str = _f("hermes", "grpo search: tool-call format of the rollouts: hermes | mcp_xml | openai.")
    constrain_calls: bool = _f(False, "grpo search: regex-constrained turns (a tool call or an answer; vllm only).")
    save_rollouts: bool = _f(True, "grpo: write every rollout (text, reward, advantage) to OUT/rollouts/.")


def field_help() -> dict[str, str]:
    return {f.name: f.metadata.get("help", "") for f in fields(TrainConfig)}


# Options that only one family of modes reads, found by how their help starts (the rest apply to every mode).
MODE_PREFIXES = (("grpo", ("grpo",)), ("dpo/rm", ("dpo", "rm")), ("DPO temperature", ("dpo",)))


def field_modes() -> dict[str, tuple[str, ...]]:
    """Field name -> the modes that use it, for the mode-specific fields only (`train --help`, reports)."""
    found = {}
    for name, text in field_help().items():
        for prefix, modes in MODE_PREFIXES:
            if text.startswith(prefix):
                found[name] = modes
                break
    return found


def from_dict(values: dict[str, Any]) -> TrainConfig:
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"unknown train option(s): {', '.join(unknown)}")
    cfg = TrainConfig(**{k: v for k, v in values.items() if v is not None or k in ("compile",)})
    validate(cfg)
    return cfg


def to_dict(cfg: TrainConfig) -> dict[str, Any]:
    return asdict(cfg)


def validate(cfg: TrainConfig) -> None:
    checks = [
        (cfg.mode in MODES, f"--mode must be one of {', '.join(MODES)}, got {cfg.mode!r}"),
        (bool(cfg.data), "--data needs at least one dataset"),
        (bool(cfg.out), "--out is required"),
        ((cfg.model is None) != (cfg.from_config is None), "give exactly one of --model PATH or --from-config NAME|FILE"),
        (cfg.seq_len >= 16, "--seq-len must be >= 16"),
        (cfg.lr > 0, "--lr must be > 0"),
        (0.0 <= cfg.eval_fraction < 1.0, "--eval-fraction must be in [0, 1)"),
        (cfg.attention in ATTENTION, f"--attention must be one of {', '.join(ATTENTION)}"),
        (cfg.precision in PRECISION, f"--precision must be one of {', '.join(PRECISION)}"),
        (cfg.context_parallel >= 1 and (cfg.context_parallel == 1 or cfg.mode == "sft"),
         "--context-parallel must be >= 1 (and > 1 only with --mode sft)"),
        (cfg.memory in ("auto", "fixed"), "--memory must be auto or fixed"),
        (cfg.master_weights in PRECISION, f"--master-weights must be one of {', '.join(PRECISION)}"),
        (not cfg.offload_optimizer or cfg.master_weights == "bf16" or cfg.memory == "auto",
         "--offload-optimizer needs --master-weights bf16"),
        (cfg.save_dtype in PRECISION, f"--save-dtype must be one of {', '.join(PRECISION)}"),
        (cfg.device in ("auto", "cpu", "cuda"), "--device must be auto, cpu or cuda"),
        (cfg.grad_accum is None or cfg.grad_accum >= 1, "--grad-accum must be >= 1"),
        (cfg.steps is None or cfg.steps >= 1, "--steps must be >= 1"),
        (cfg.epochs > 0, "--epochs must be > 0"),
        (cfg.loss_chunk >= 16, "--loss-chunk must be >= 16"),
        (len(cfg.betas) == 2, "--betas takes two numbers"),
        (_ckpt_ok(cfg.activation_checkpointing), "--activation-checkpointing must be none, full, selective or an integer"),
    ]
    for ok, message in checks:
        if not ok:
            raise UserError(message)
    if cfg.mode == "grpo":
        from synth.trainers.rl.options import validate_rl

        validate_rl(cfg)


def _ckpt_ok(value: str) -> bool:
    return value in ("none", "full", "selective") or str(value).isdigit()


def shipped_configs() -> list[str]:
    folder = resources.files(__package__) / "configs"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_model_config(name_or_file: str) -> dict[str, Any]:
    """A shipped config by name, or a config.json file / model directory, as a plain dict."""
    path = Path(name_or_file)
    if path.is_dir():
        path = path / "config.json"
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}: malformed JSON: {exc.msg} (line {exc.lineno})") from None
    shipped = resources.files(__package__) / "configs" / f"{name_or_file}.json"
    if shipped.is_file():
        return json.loads(shipped.read_text(encoding="utf-8"))
    raise UserError(f"--from-config {name_or_file!r}: not a file and not a shipped config ({', '.join(shipped_configs())})")
