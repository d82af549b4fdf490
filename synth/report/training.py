"""Curves of a `synth train` output: DIR/train_log.jsonl, read in one bounded pass.

The trainer (trainers/loop.py) writes one line per logged step — {step, lr, tokens, tokens_per_s, mfu,
elapsed_s, loss, grad_norm, ...} — and eval lines {step, eval: {loss, ...}}. Every numeric field becomes a
curve over `step`; a `Decimator` keeps at most a few hundred points per curve however long the run.
A torn last line (a run killed mid-write) is counted, not fatal: the log is evidence, not input.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from synth.report.sketch import Decimator

LOG = "train_log.jsonl"
FIRST = ("loss", "eval loss", "tokens_per_s", "mfu", "lr", "grad_norm", "accuracy", "eval accuracy")
NOT_CURVES = {"step", "elapsed_s", "tokens"}
MAX_CURVES = 16


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class _Curves:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self.series: dict[str, Decimator] = {}

    def add(self, name: str, step: Any, value: Any) -> None:
        if not _number(step) or not _number(value):
            return
        if name not in self.series:
            if len(self.series) >= MAX_CURVES:
                return
            self.series[name] = Decimator(self.capacity)
        self.series[name].add((step, value))


def read_train_log(path: Path, capacity: int = 400) -> dict[str, Any]:
    curves = _Curves(capacity)
    lines = bad = 0
    last: dict = {}
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            lines += 1
            try:
                rec = json.loads(raw)
            except ValueError:
                bad += 1
                continue
            if not isinstance(rec, dict):
                bad += 1
                continue
            step = rec.get("step")
            if isinstance(rec.get("eval"), dict):
                for key, value in rec["eval"].items():
                    curves.add(f"eval {key}", step, value)
                continue
            last = rec
            for key, value in rec.items():
                if key not in NOT_CURVES:
                    curves.add(key, step, value)
    return {"log": str(path), "lines": lines, "malformed_lines": bad, "last": last,
            "curves": _ordered(curves.series), "summary": _summary(curves.series, last)}


def _ordered(series: dict[str, Decimator]) -> dict[str, list[list[float]]]:
    names = [n for n in FIRST if n in series] + sorted(n for n in series if n not in FIRST)
    return {n: [list(p) for p in series[n].values()] for n in names}


def _summary(series: dict[str, Decimator], last: dict) -> dict[str, Any]:
    out: dict[str, Any] = {"steps": last.get("step"), "elapsed_s": last.get("elapsed_s")}
    for name, dec in series.items():
        values = [v for _, v in dec.values()]
        if values:
            out[name] = {"first": values[0], "last": values[-1], "min": min(values), "max": max(values)}
    rates = [v for _, v in series["tokens_per_s"].values()][2:] if "tokens_per_s" in series else []
    if rates:  # the first steps include compilation and warm-up
        out["steady_tokens_per_s"] = sum(rates) / len(rates)
    return out
