"""Reward flake rate (issue 22): how often a correct, reference-speed completion loses its time reward.

The problem is the O(n) `equal_pairs` of tests/code/test_reward.py, built for real once (tests, mutation,
measured class); the bound is pinned to its declared O(n) so that what is measured is the reward's own
reliability, not the fitter's verdict on the reference. The completion is a correct O(n) solution
written differently from the reference. Each scoring is a full `reward()` (tests, timed profile with
output checks, reference replay, CPU cross-check), `--workers` at a time, so scorings compete for the
CPU as they do in RL. A quadratic completion is scored alongside as the baseline that must *not* pass.

    python bench/reward_flake.py [--scorings 200] [--workers 2] [--json OUT]

Prints the full-time-reward rate of both completions, the failures by reason, scorings/s and peak RSS.
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth.pipelines.code.build import build_problem
from synth.pipelines.code.problems import parse_seed
from synth.pipelines.code.reward import reward

from synth.sandbox import Sandbox
from tests.code.test_reward import LINEAR, QUADRATIC, SEED


def why(result: dict) -> str:
    d = result["details"]
    if result["time"] == 1.0:
        return "full"
    if d.get("time_failure"):
        return d["time_failure"].split(":")[0]
    return f"class {d.get('completion_class')}"


def score_many(box: Sandbox, problem: dict, completion: str, count: int) -> collections.Counter:
    return collections.Counter(box.map(lambda _: why(reward(problem, completion, sandbox=box)), range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scorings", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=20, help="scorings of the quadratic completion")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    box = Sandbox(workers=args.workers)
    problem = build_problem(box, parse_seed(SEED, "<bench>", 1))
    measured = problem["complexity"]["class"]
    problem["complexity"]["class"] = "O(n)"
    start = time.perf_counter()
    linear = score_many(box, problem, LINEAR, args.scorings)
    elapsed = time.perf_counter() - start
    quadratic = score_many(box, problem, QUADRATIC, args.baseline)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    summary = {"scorings": args.scorings, "full_time_reward": linear["full"] / args.scorings,
               "flake_rate": 1 - linear["full"] / args.scorings, "linear_outcomes": dict(linear),
               "quadratic_full_rate": quadratic["full"] / args.baseline, "quadratic_outcomes": dict(quadratic),
               "reference_measured_as": measured, "scorings_per_s": round(args.scorings / elapsed, 3),
               "peak_rss_mib": rss}
    print(json.dumps(summary, indent=1))
    print(f"correct O(n): full time reward in {linear['full']}/{args.scorings} scorings "
          f"(flake rate {summary['flake_rate']:.3f}); quadratic baseline passes {quadratic['full']}/{args.baseline}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
