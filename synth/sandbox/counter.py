"""Instruction counting for trusted profiles (issue 22): the interpreter runs under valgrind's
callgrind, collecting only inside `_PyEval_CallTracing` (what `sys.call_tracing` calls, and nothing
else in the harness) and writing a dump after each such call. The profiler calls the measured function
through `sys.call_tracing` and reads the dump's total, so each timed call yields the exact number of
machine instructions it executed, C code (sorted, dict, set) included.

Why: on a shared machine CPU time carries cache and load effects that a log factor cannot be told
from (an O(n) loop over 2k-64k Python objects grows x2.2-2.4 per doubling, like an n log n sort).
Instruction counts do not see caches, other processes or clock resolution, so the same input gives
the same count. They cost ~50x the CPU of a native run, so only the trusted reference (measured once
per problem at build time) is counted; an untrusted completion could issue callgrind's client requests
to forge its count and stays on the CPU clock with output and clock checks (measure.py).
"""

from __future__ import annotations

import shutil

DUMP_PREFIX = "/tmp/.instructions"  # + ".<pid>.<dump number>", inside the sandbox's private /tmp
MARKER = "_PyEval_CallTracing"


def available() -> bool:
    return shutil.which("valgrind") is not None


def launcher() -> list[str]:
    """Command prefix that runs the sandboxed interpreter under callgrind, counting marked calls only."""
    return [shutil.which("valgrind") or "valgrind", "--tool=callgrind", "-q", "--collect-atstart=no",
            f"--toggle-collect={MARKER}", f"--dump-after={MARKER}", "--dump-instr=no", "--dump-line=no", "--vgdb=no",
            f"--callgrind-out-file={DUMP_PREFIX}.%p"]
