"""Sandbox cost: executions per second isolated (bubblewrap + harness policy) vs a bare subprocess.

Both sides run the very same harness job (one function problem with 10 tests), `--workers` at a time,
in alternating rounds so machine load hits both equally. The bare side is the harness started directly
(no namespaces, no uid switch, no policy hook); the isolated side is `Sandbox()` as the pipelines use it.

    python bench/sandbox.py [--runs 120] [--workers 2] [--backend bwrap]

Prints executions/s for both, the cost ratio (bare rate / isolated rate; goal <= 1.5) and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time
from concurrent.futures import ThreadPoolExecutor

from synth.sandbox import Limits, Sandbox
from synth.sandbox.backend import Backend
from synth.sandbox.runner import execute

SOURCE = "def solve(xs, k):\n    best = 0\n    for x in xs:\n        best = max(best, x * k)\n    return best\n"
TESTS = [[[i, i + 1, i + 2], i % 3] for i in range(10)]


def isolated_job(box: Sandbox):
    return lambda _: box.run_function([SOURCE], "solve", TESTS)


def bare_job(limits: Limits):
    backend = Backend("rlimits", root=False)
    job = {"mode": "function", "programs": [{"name": "solution.py", "source": SOURCE}], "entry_point": "solve",
           "tests": TESTS, "stop_on_fail": False, "policy": {"audit": False, "read_roots": [], "write_roots": []}}
    return lambda _: execute(backend, job, limits)


def rate(fn, runs: int, workers: int) -> tuple[float, int]:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(fn, range(runs)))
    ok = sum(r.status == "ok" for r in results)
    return runs / (time.perf_counter() - start), ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=120, help="executions per side per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default=None, help="bwrap | unshare (default: strongest available)")
    args = parser.parse_args()
    limits = Limits(cpu_s=5, wall_s=20)
    box = Sandbox(limits, backend=args.backend)
    iso, bare = isolated_job(box), bare_job(limits)
    iso(0), bare(0)  # warm-up (backend probe, page cache)
    totals = {"isolated": [0.0, 0], "bare": [0.0, 0]}
    for _ in range(args.rounds):
        for name, fn in (("bare", bare), ("isolated", iso)):
            r, ok = rate(fn, args.runs, args.workers)
            totals[name][0] += r / args.rounds
            totals[name][1] += ok
    iso_rate, bare_rate = totals["isolated"][0], totals["bare"][0]
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"backend            {box.backend.name} (workers={args.workers}, runs={args.runs}x{args.rounds} per side)")
    print(f"bare subprocess    {bare_rate:7.1f} executions/s  ({totals['bare'][1]} ok)")
    print(f"isolated sandbox   {iso_rate:7.1f} executions/s  ({totals['isolated'][1]} ok)")
    print(f"cost ratio         {bare_rate / iso_rate:7.2f}x  (bare rate / isolated rate; goal <= 1.5)")
    print(f"peak RSS           parent {me:.0f} MiB, largest sandboxed process {kids:.0f} MiB")


if __name__ == "__main__":
    main()
