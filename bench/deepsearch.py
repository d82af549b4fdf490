"""Deep-search task synthesis (--teacher none): throughput and memory of the template path.

    python bench/deepsearch.py CORPUS [--items 200] [--workers 1]

Runs the per-item builder (walk, formal question, template, full rule gauntlet) in-process over item
ranges of growing size. The baseline is the first range, measured in the same process; the script prints
tasks/s of each later range as a ratio to it, and peak RSS after each range: the per-worker caches are
bounded (pipelines/deepsearch/kb.py LRU), so memory must stay flat as the item count grows.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections import Counter


def rss_mb() -> float:
    """Peak RSS so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """RSS now (Linux /proc; the peak where unavailable)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        return rss_mb()


def run_range(builder, start: int, count: int) -> tuple[float, int, Counter]:
    began, kept, failed = time.perf_counter(), 0, Counter()
    for index in range(start, start + count):
        cand, failures, _ = builder.build(index)
        kept += cand is not None
        failed.update(failures)
    return time.perf_counter() - began, kept, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--items", type=int, default=200, help="items in the baseline range")
    args = parser.parse_args()

    from synth.pipelines.deepsearch.kb import KB
    from synth.pipelines.deepsearch.seeds import SeedPolicy, plan_seeds
    from synth.pipelines.deepsearch.task import GenConfig, TaskBuilder

    began = time.perf_counter()
    kb = KB(args.corpus)
    plan, _ = plan_seeds(kb, SeedPolicy(), 0)
    print(f"open corpus + seed plan: {time.perf_counter() - began:.2f} s, {len(plan)} seeds, rss {rss_mb():.0f} MB")
    sizes = [args.items, 2 * args.items, 4 * args.items, 8 * args.items]
    builder = TaskBuilder(kb, GenConfig(), plan, sum(sizes))
    start, base = 0, None
    for size in sizes:
        seconds, kept, failed = run_range(builder, start, size)
        rate = kept / seconds
        base = base or rate
        print(f"items {start}-{start + size - 1}: {kept}/{size} tasks in {seconds:.1f} s = {rate:.1f} tasks/s "
              f"(x{rate / base:.2f} of the first range), rss {current_rss_mb():.0f} MB (peak {rss_mb():.0f} MB), "
              f"caches {sum(len(c) for c in kb.memo.values())} entries, failed candidates {dict(sorted(failed.items()))}")
        start += size


if __name__ == "__main__":
    main()
