"""`--report-to tensorboard|wandb`: send a run's metrics to experiment trackers, when their packages are installed.

Off by default ("none"). TensorBoard writes event files to OUT/tensorboard/ (torch's SummaryWriter, which
needs the `tensorboard` package); W&B starts a run whose local files go to OUT/wandb/ (mode and project
from the usual WANDB_* environment variables; the API key is read by wandb itself and never by synth).
A name that is not installed is a one-line UserError before any work starts.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from synth.errors import UserError

BACKENDS = {"tensorboard": "tensorboard", "wandb": "wandb"}  # --report-to name -> the package it needs


def parse(value: str | None) -> list[str]:
    """'tensorboard,wandb' -> names, checked: known and installed (UserError otherwise)."""
    names = [n.strip() for n in (value or "none").split(",") if n.strip() and n.strip() != "none"]
    for name in names:
        if name not in BACKENDS:
            raise UserError(f"--report-to {name}: unknown; use none, {', '.join(BACKENDS)} (comma-separated)")
        if importlib.util.find_spec(BACKENDS[name]) is None:
            raise UserError(f"--report-to {name}: the {BACKENDS[name]} package is not installed "
                            f"(pip install {BACKENDS[name]})")
    return names


def flatten(record: dict, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a metrics record as 'eval/loss'-style scalar names (step and strings left out)."""
    scalars: dict[str, float] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            scalars.update(flatten(value, f"{name}/"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and key != "step":
            scalars[name] = float(value)
    return scalars


class Trackers:
    """The chosen trackers of one run: `log(step, record)`, then `close()`."""

    def __init__(self, names: list[str], out: Path, run_name: str, config: dict[str, Any]):
        self.writers: list[Any] = []
        if "tensorboard" in names:
            from torch.utils.tensorboard import SummaryWriter

            self.writers.append(SummaryWriter(log_dir=str(Path(out) / "tensorboard")))
        self.wandb = None
        if "wandb" in names:
            import wandb

            (Path(out) / "wandb").mkdir(parents=True, exist_ok=True)
            self.wandb = wandb.init(name=run_name, dir=str(out), config=config, reinit=True)

    def log(self, step: int, record: dict) -> None:
        scalars = flatten(record)
        for writer in self.writers:
            for name, value in scalars.items():
                writer.add_scalar(name, value, step)
            writer.flush()
        if self.wandb is not None and scalars:
            self.wandb.log(scalars, step=step)

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.wandb is not None:
            self.wandb.finish()


def report_final(out: Path, stats: dict, report_to: str | None, config: dict) -> None:
    """A finished evaluation's numbers: one line in OUT/metrics.jsonl (rewritten: it describes this output)
    and one logged step (0) for each tracker."""
    import json

    (Path(out) / "metrics.jsonl").write_text(json.dumps({"step": 0, **stats}, default=str) + "\n", encoding="utf-8")
    names = parse(report_to)
    if names:
        trackers = Trackers(names, out, Path(out).name, config)
        trackers.log(0, stats)
        trackers.close()
