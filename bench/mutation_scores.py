"""Mutation score distribution over the example seeds (issue 22), with the new operators.

Builds every seed of examples/code_seeds.jsonl for real (tests, mutants, probes; complexity off: it
does not bear on adequacy) and prints, per problem, the mutants made, killed, likely equivalent and
the final score, then the distribution. The baseline in the same run is the *initial* score (before
survivors are probed): the ratio says how much probing (validated, with boundary-squashed inputs) adds.

    python bench/mutation_scores.py [--seeds examples/code_seeds.jsonl] [--max-mutants 30] [--json OUT]
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth.pipelines.code.adequacy import assess
from synth.pipelines.code.mutation import MutationConfig, score
from synth.pipelines.code.problems import read_seeds
from synth.pipelines.code.testgen import TestConfig, build_tests

from synth.sandbox import Sandbox


def one(box: Sandbox, seed, cfg: MutationConfig) -> dict:
    tests = build_tests(box, seed, TestConfig())
    if tests.reject:
        return {"id": seed.id, "reject": tests.reject[0]}
    initial = score(box, seed.style, seed.reference_solution, seed.entry_point, tests.tests, tests.max_cpu, cfg)
    report = assess(box, seed, tests, TestConfig(), cfg)
    return {"id": seed.id, "mutants": report.total, "killed": report.killed,
            "likely_equivalent": len(report.equivalent), "added_tests": report.added_tests,
            "initial_score": initial.killed / initial.total if initial.total else None, "score": report.score}


def bucket(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "1.00" if value >= 1 else f"{int(value * 10) / 10:.1f}-{int(value * 10) / 10 + 0.1:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=Path("examples/code_seeds.jsonl"))
    parser.add_argument("--max-mutants", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    box = Sandbox(workers=2)
    cfg = replace(MutationConfig(), max_mutants=args.max_mutants)
    start = time.perf_counter()
    rows = box.map(lambda s: one(box, s, cfg), list(read_seeds(args.seeds)))
    scored = [r for r in rows if r.get("score") is not None]
    for r in rows:
        print(json.dumps(r))
    dist = collections.Counter(bucket(r["score"]) for r in scored)
    mean = lambda key: sum(r[key] for r in scored) / max(1, len(scored))
    summary = {"problems": len(rows), "scored": len(scored), "distribution": dict(sorted(dist.items())),
               "mean_score": round(mean("score"), 4), "mean_initial_score": round(mean("initial_score"), 4),
               "ratio_final_over_initial": round(mean("score") / max(1e-9, mean("initial_score")), 3),
               "mutants": sum(r["mutants"] for r in scored), "likely_equivalent": sum(r["likely_equivalent"] for r in scored),
               "added_tests": sum(r["added_tests"] for r in scored), "seconds": round(time.perf_counter() - start, 1),
               "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
