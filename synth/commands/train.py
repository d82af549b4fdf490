"""`synth train`: SFT with per-message loss flags, DPO and a Bradley-Terry reward model (trainers/).

The flags are generated from `synth.trainers.config.TrainConfig`, the single source of truth shared with
`python -m synth.trainers` (the torchrun entry point), so the two never drift apart. Every option defaults
to None here: unset flags fall back to the dataclass default, which lets `--config FILE` fill them.

Multi-GPU: `torchrun --nproc-per-node N -m synth.trainers --data ... --out ...` (FSDP2).
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path
from typing import Annotated

import typer

from synth.cli_common import ConfigFile, JsonOut, synth_command
from synth.trainers.config import TrainConfig

HELP = ("Train a model: sft (per-message loss flags + weights, packed), dpo, rm (Bradley-Terry), or grpo (RL: "
        "code reward, agent rollouts with turn credit).")
_TYPES = {"list[str]": list[str] | None, "list[float]": list[float] | None, "bool": bool | None,
          "bool | None": bool | None, "int": int | None, "int | None": int | None, "float": float | None,
          "str": str | None, "str | None": str | None}


def _option(f) -> inspect.Parameter:
    flag = "--" + f.name.replace("_", "-")
    kind = str(f.type)
    names = [f"{flag}/--no-{flag[2:]}"] if "bool" in kind else [flag]
    if f.name == "out":
        names = ["--out", "-o"]
    annotation = Annotated[_TYPES[kind], typer.Option(*names, help=f.metadata.get("help", ""))]
    return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)


def _train(ctx: typer.Context, **params) -> dict:
    from synth.trainers import run_train
    from synth.trainers.config import from_dict

    known = {f.name for f in fields(TrainConfig)}
    values = {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items() if k in known and v is not None}
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
    params += [_option(f) for f in fields(TrainConfig)]

    def train(ctx: typer.Context, **kwargs) -> dict:
        return _train(ctx, **kwargs)

    train.__signature__ = inspect.Signature(params)
    train.__doc__ = HELP
    app.command("train", help=HELP)(synth_command(train))
