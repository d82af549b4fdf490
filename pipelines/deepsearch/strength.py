"""Which solver measured a tier, and whether it is strong enough to call a task `hard` or `rl`.

A pass rate says as much about the solver as about the task: a 135M model fails nearly everything, so its
`hard` means "hard for a 135M model". Every teacher-made task records its solver (model, parameters,
rollouts, turns); with --min-solver-params a run refuses `hard` and `rl` from a smaller (or unknown-size)
solver: such tasks keep their pass rate but get tier `unverified`, and `solver.tier_refused` says why.
`easy` stands whatever the solver: a task a weak model solves is easy for a strong one too.
"""

from __future__ import annotations

import re
from pathlib import Path

from synth.errors import UserError

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
STRICT_TIERS = ("hard", "rl")


def parse_size(value: str | None, flag: str) -> int | None:
    """'135M', '7B', '1.5b', '7e9' -> parameter count; None stays None."""
    if value is None or str(value).strip() == "":
        return None
    match = _SIZE.match(str(value))
    if not match:
        raise UserError(f"{flag} must be a parameter count such as 135M, 7B or 7e9, got {value!r}")
    return int(float(match.group(1)) * _SCALE[match.group(2).lower()])


def human_size(count: int | None) -> str:
    if count is None:
        return "unknown size"
    for suffix, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if count >= scale:
            return f"{count / scale:.3g}{suffix}"
    return str(count)


def solver_parameters(spec, declared: int | None) -> int | None:
    """Declared (--solver-params) wins; a served folder (vllm:DIR) is counted from its safetensors headers."""
    if declared is not None:
        return declared
    if spec.kind == "vllm":
        from synth.teachers.weights import parameter_count

        return parameter_count(Path(spec.target)) or None
    return None  # an endpoint does not say how large its model is


def solver_record(model: str | None, parameters: int | None, rollouts: int, max_turns: int) -> dict:
    return {"model": model, "parameters": parameters, "rollouts": rollouts, "max_turns": max_turns,
            "tier_refused": None}


def gate_tier(tier: str, solver: dict, min_parameters: int | None) -> tuple[str, dict]:
    """(tier, solver) after the strength rule: `hard`/`rl` from a solver below the minimum -> `unverified`."""
    if min_parameters is None or tier not in STRICT_TIERS:
        return tier, solver
    size = solver.get("parameters")
    if size is not None and size >= min_parameters:
        return tier, solver
    why = (f"{tier} measured by {solver.get('model')} ({human_size(size)}) < --min-solver-params "
           f"{human_size(min_parameters)}")
    return "unverified", {**solver, "tier_refused": why}
