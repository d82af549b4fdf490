"""`synth train`: SFT with per-message loss flags and weights, packing without cross-contamination, DPO and
a Bradley-Terry reward model, on one GPU or many (FSDP2 via torchrun).

Entry points: `run_train(config)` (a `TrainConfig` or a dict of its fields) and
`python -m synth.trainers --data DIR --out DIR ...` (also under `torchrun`). Heavy imports (torch,
transformers) happen only when training starts.
"""

from __future__ import annotations

from typing import Any

from synth.trainers.config import TrainConfig, field_help

__all__ = ["TrainConfig", "field_help", "run_train"]


def run_train(config: Any) -> dict:
    from synth.trainers.run import run_train as _run

    return _run(config)
