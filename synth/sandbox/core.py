"""`Sandbox`: the public face of isolated execution (one run, or parallel batches of runs)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from synth.sandbox import counter
from synth.sandbox.backend import HERE, INSIDE, LEVELS, Backend, detect, interpreter
from synth.sandbox.limits import Limits
from synth.sandbox.runner import RunResult, execute

T = TypeVar("T")
R = TypeVar("R")

_UID_BASE = 100_000_000
_SLOTS = 64
_slot_lock = threading.Lock()
_free_slots = list(range(_SLOTS))


@contextmanager
def _uid_slot(root: bool) -> Iterator[int | None]:
    """A uid no other live run uses (root callers only). RLIMIT_NPROC counts processes per uid, so
    concurrent runs on distinct uids cannot starve each other of process slots — not even across
    processes, since the uid range is keyed by our pid."""
    if not root:
        yield None
        return
    with _slot_lock:
        slot = _free_slots.pop() if _free_slots else None
    if slot is None:
        raise RuntimeError(f"more than {_SLOTS} concurrent sandbox runs in one process")
    try:
        yield _UID_BASE + (os.getpid() % 4_000_000) * _SLOTS + slot
    finally:
        with _slot_lock:
            _free_slots.append(slot)


class Sandbox:
    """Runs untrusted Python in isolation.

    `backend`: "bwrap" | "unshare" | "rlimits" or None for the strongest that works here.
    `min_isolation`: refuse weaker backends (a RuntimeError at construction, never a silent downgrade).
    `audit`: install the harness policy hook (blocked calls are reported as `violation`); with it off only
    the kernel boundary remains, which still contains everything but reports less precisely.
    """

    def __init__(self, limits: Limits | None = None, backend: str | None = None,
                 min_isolation: str = "unshare", audit: bool = True, workers: int = 2):
        self.limits = limits or Limits()
        self.backend: Backend = detect(backend)
        if self.backend.level < LEVELS.index(min_isolation):
            raise RuntimeError(f"sandbox backend {self.backend.name!r} is weaker than min_isolation="
                               f"{min_isolation!r}; install bubblewrap or allow user namespaces")
        self.audit = audit
        self.workers = max(1, workers)

    # ------------------------------------------------------------------ jobs

    def policy(self) -> dict:
        _, prefix = interpreter()
        harness_dir = str(HERE) if self.backend.name == "rlimits" else INSIDE
        reads = [prefix, "/usr/lib", "/usr/lib64", "/usr/share/zoneinfo", "/dev/urandom", "/dev/random",
                 "/dev/zero", "/proc/self", harness_dir]
        return {"audit": self.audit, "read_roots": reads, "write_roots": ["/tmp", "/dev/null"]}

    def run(self, job: dict, stdin: bytes | None = None, limits: Limits | None = None,
            launcher: tuple[str, ...] = ()) -> RunResult:
        """One run of a raw harness job (see harness.py for the modes)."""
        job = dict(job, policy=self.policy())
        with _uid_slot(self.backend.root) as uid:
            return execute(self.backend, job, limits or self.limits, stdin=stdin, uid=uid, launcher=launcher)

    def run_function(self, sources: list[str], entry_point: str, tests: list[list],
                     stop_on_fail: bool = False, limits: Limits | None = None) -> RunResult:
        """Call `entry_point(*args)` of each source program on every test's argument list.
        Events: one `test` per call ({program, test, status, value, cpu}), one `program` per program."""
        programs = [{"name": "solution.py", "source": s} for s in sources]
        job = {"mode": "function", "programs": programs, "entry_point": entry_point, "tests": tests,
               "stop_on_fail": stop_on_fail}
        return self.run(job, limits=limits)

    def run_stdio(self, source: str, stdin: str, limits: Limits | None = None) -> RunResult:
        """Run a program as __main__ with `stdin`; its stdout is `result.stdout`."""
        job = {"mode": "stdio", "programs": [{"name": "solution.py", "source": source}]}
        return self.run(job, stdin=stdin.encode(), limits=limits)

    def run_stdio_batch(self, source: str, stdins: list[str], limits: Limits | None = None) -> RunResult:
        """Many stdin texts in one process (emulated sys.stdin/sys.stdout); `test` events carry stdout
        as `value`. Faster than one run per test; programs reading fd 0 directly fail in this mode."""
        job = {"mode": "stdio_batch", "programs": [{"name": "solution.py", "source": source}], "stdins": stdins}
        return self.run(job, limits=limits)

    def run_source(self, source: str, limits: Limits | None = None) -> RunResult:
        """Run a whole program with empty stdin (adversarial tests and quick checks)."""
        return self.run_stdio(source, "", limits=limits)

    def generate(self, generator: str, draws: list[tuple[int, int]], style: str,
                 limits: Limits | None = None) -> RunResult:
        """Inputs from a generator program's `generate(n, rng)`; one `draw` event per (size, seed)."""
        job = {"mode": "generate", "generator": {"name": "generator.py", "source": generator},
               "draws": [list(d) for d in draws], "style": style}
        return self.run(job, limits=limits)

    def profile(self, source: str, entry_point: str, generator: str, config: dict,
                limits: Limits | None = None) -> RunResult:
        """Time `entry_point` over growing sizes; one `measure` event per size (see profile_worker).
        `config["counter"] == "instructions"` counts instructions instead (trusted code only: counter.py)."""
        launcher = ()
        if config.get("counter") == "instructions":
            launcher, config = tuple(counter.launcher()), dict(config, dump_prefix=counter.DUMP_PREFIX)
        job = {"mode": "profile", "programs": [{"name": "solution.py", "source": source}],
               "entry_point": entry_point, "generator": {"name": "generator.py", "source": generator},
               "profile": config}
        return self.run(job, limits=limits, launcher=launcher)

    # ------------------------------------------------------------------ batches

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Apply `fn` (which runs sandboxes) to items in parallel, `workers` at a time, keeping order.
        Threads suffice: each worker mostly waits on its sandboxed process."""
        items = list(items)
        if self.workers == 1 or len(items) <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(fn, items))
