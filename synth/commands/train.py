"""`synth train`: SFT with per-message loss flags, DPO and a Bradley-Terry reward model (trainers/).

The flags are generated from `synth.trainers.config.TrainConfig`, the single source of truth shared with
`python -m synth.trainers` (the torchrun entry point), so the two never drift apart. Every option defaults
to None here: unset flags fall back to the dataclass default, which lets `--config FILE` fill them.

Multi-GPU: `torchrun --nproc-per-node N -m synth.trainers --data ... --out ...` (FSDP2).
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated

import typer

from synth.cli_common import ConfigFile, synth_command
from synth.help import SectionedCommand
from synth.trainers.config import TrainConfig, field_modes

HELP = ("Train a model: sft (per-message loss flags + weights, packed), dpo, rm (Bradley-Terry), or grpo (RL: "
        "code reward, agent rollouts with turn credit).")
_TYPES = {"list[str]": list[str] | None, "list[float]": list[float] | None, "bool": bool | None,
          "bool | None": bool | None, "int": int | None, "int | None": int | None, "float": float | None,
          "str": str | None, "str | None": str | None}


# `train --help` in sections, by mode (synth.help.SectionedCommand). Fields of one mode (config.field_modes:
# their help starts "grpo", "dpo/rm") go in its section; the rest are listed here; a new one in "Other options".
SECTIONS = {
    "Data and model (every mode)": ("data", "out", "mode", "model", "from_config", "tokenizer", "chat_template",
                                    "seq_len"),
    "Optimization": ("batch_tokens", "grad_accum", "lr", "min_lr_ratio", "warmup", "weight_decay", "betas",
                     "max_grad_norm", "steps", "epochs", "seed"),
    "Evaluation, checkpoints and progress": ("eval_fraction", "eval_every", "save_every", "checkpoint_at_end",
                                             "resume", "force", "log_every", "report_to", "save_dtype"),
    "Speed and memory": ("attention", "compile", "activation_checkpointing", "precision", "loss_chunk",
                         "peak_tflops", "mfu_context", "device", "workers"),
}
DPO, GRPO, SEARCH = ("DPO and reward model (--mode dpo | rm)", "GRPO (--mode grpo)",
                     "GRPO search agents (--mode grpo --task search)")
REQUIRED = ("data", "out")
JsonOut = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")]


def section(f) -> str:
    modes = field_modes().get(f.name)
    if modes == ("grpo",):
        return SEARCH if f.metadata.get("help", "").startswith("grpo search") else GRPO
    if modes:
        return DPO
    return next((title for title, names in SECTIONS.items() if f.name in names), "Other options")


def _shown_default(f, flag: str) -> str:
    """The dataclass default as help shows it (options default to None so --config files can fill them)."""
    value = f.default_factory() if f.default_factory is not MISSING else f.default
    if f.name in REQUIRED:
        return "  [required]"
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = flag if value else f"--no-{flag[2:]}"
    return f"  [default: {' '.join(map(str, value)) if isinstance(value, list) else value}]"


def _option(f) -> inspect.Parameter:
    flag = "--" + f.name.replace("_", "-")
    kind = str(f.type)
    names = [f"{flag}/--no-{flag[2:]}"] if "bool" in kind else [flag]
    if f.name == "out":
        names = ["--out", "-o"]
    text = f.metadata.get("help", "") + _shown_default(f, flag)
    option = typer.Option(*names, help=text, show_default=False, rich_help_panel=section(f))
    annotation = Annotated[_TYPES[kind], option]
    return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)


def _train(ctx: typer.Context, **params) -> dict:
    from synth import tracking
    from synth.trainers import run_train
    from synth.trainers.config import from_dict

    known = {f.name for f in fields(TrainConfig)}
    values = {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items() if k in known and v is not None}
    tracking.parse(values.get("report_to"))  # an unknown or uninstalled tracker: exit 2 before any work
    manifest = run_train(from_dict(values))
    stats = manifest.get("stats", {})
    final = stats.get("final") or {}
    return {"out": values.get("out"), "mode": values.get("mode", "sft"), "steps": stats.get("steps"),
            "resumed_from": stats.get("resumed_from"), "loss": final.get("loss"), "eval": stats.get("eval"),
            "tokens_per_s": stats.get("tokens_per_s"), "mfu": final.get("mfu"), "reward": final.get("reward"),
            "records": manifest["counts"]["input"], "rejected": manifest["counts"]["rejected_by_reason"]}


def register(app: typer.Typer) -> None:
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
              inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConfigFile),
              inspect.Parameter("json_out", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonOut)]
    order = [*SECTIONS, DPO, GRPO, SEARCH]  # every mode first, then each mode's own options
    by_section = sorted(fields(TrainConfig), key=lambda f: order.index(s) if (s := section(f)) in order else 4)
    params += [_option(f) for f in by_section]

    def train(ctx: typer.Context, **kwargs) -> dict:
        return _train(ctx, **kwargs)

    train.__signature__ = inspect.Signature(params)
    train.__doc__ = HELP
    app.command("train", help=HELP, cls=SectionedCommand)(synth_command(train))
