"""Resource limits and the status vocabulary shared by the sandbox and its callers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

# Run-level and test-level outcomes. Stable strings: they land in records, rejects and manifests.
OK = "ok"
WRONG_ANSWER = "wrong_answer"  # decided by the caller (the sandbox never sees expected outputs)
RUNTIME_ERROR = "runtime_error"
TIMEOUT = "timeout"
MEMORY_LIMIT = "memory_limit"
OUTPUT_LIMIT = "output_limit"
VIOLATION = "violation"  # a blocked operation: network, process, write outside tmp, signal, ...
INFRA_ERROR = "infra_error"  # the sandbox itself failed: not the program's fault, retry or fix the host
PROTOCOL_ERROR = "protocol_error"  # a forged, malformed or out-of-range result line: scored as a failure

STATUSES = (OK, WRONG_ANSWER, RUNTIME_ERROR, TIMEOUT, MEMORY_LIMIT, OUTPUT_LIMIT, VIOLATION, INFRA_ERROR,
            PROTOCOL_ERROR)

# Harness per-call statuses -> public statuses.
CALL_STATUS = {"ok": OK, "error": RUNTIME_ERROR, "timeout": TIMEOUT, "memory": MEMORY_LIMIT,
               "output_limit": OUTPUT_LIMIT, "violation": VIOLATION}


@dataclass(frozen=True)
class Limits:
    """Per-run limits. CPU/memory/process/file limits are kernel rlimits; wall time and output caps are
    enforced by the parent, which kills the whole process tree when one is exceeded."""

    cpu_s: int = 10  # CPU seconds for the whole run (all tests of a batch)
    wall_s: float = 20.0  # wall-clock seconds for the whole run
    test_cpu_s: float = 2.0  # CPU seconds per call (per test) inside the run
    memory_mb: int = 1024  # address-space limit (RLIMIT_AS) of every process in the sandbox
    processes: int = 16  # processes/threads the sandbox may hold at once (RLIMIT_NPROC per namespace)
    output_kb: int = 1024  # stdout cap; past it the run is killed with output_limit
    stderr_kb: int = 64  # stderr kept (the rest is drained and dropped)
    results_mb: int = 64  # result-channel cap (harness events)
    file_mb: int = 16  # largest file the program may write (RLIMIT_FSIZE)
    tmp_mb: int = 64  # size of the private /tmp (bwrap backend)
    open_files: int = 64  # RLIMIT_NOFILE

    def to_json(self) -> dict:
        return asdict(self)

    def with_(self, **changes) -> Limits:
        return replace(self, **changes)
