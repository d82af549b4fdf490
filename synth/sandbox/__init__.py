"""Isolated execution of untrusted Python (bubblewrap, or a documented namespace + rlimit fallback).

    from synth.sandbox import Sandbox, Limits
    box = Sandbox(Limits(cpu_s=5))
    res = box.run_function([source], "solve", [[1, 2], [3, 4]])
    res.status, [e["value"] for e in res.of("test")]

See backend.py for what each backend isolates and runner.py for how a run's status is decided.
"""

from synth.sandbox.core import Sandbox
from synth.sandbox.limits import (
                                  INFRA_ERROR,
                                  MEMORY_LIMIT,
                                  OK,
                                  OUTPUT_LIMIT,
                                  PROTOCOL_ERROR,
                                  RUNTIME_ERROR,
                                  STATUSES,
                                  TIMEOUT,
                                  VIOLATION,
                                  WRONG_ANSWER,
                                  Limits,
)
from synth.sandbox.runner import RunResult

__all__ = [
                                  "INFRA_ERROR",
                                  "MEMORY_LIMIT",
                                  "OK",
                                  "OUTPUT_LIMIT",
                                  "PROTOCOL_ERROR",
                                  "RUNTIME_ERROR",
                                  "STATUSES",
                                  "TIMEOUT",
                                  "VIOLATION",
                                  "WRONG_ANSWER",
                                  "Limits",
                                  "RunResult",
                                  "Sandbox",
]
