"""Manifest `stats` of a deepsearch run: hop / depth / topology / tier / category distributions, the
final rejects by reason, and the failed candidates by reason (every candidate an item tried and dropped
before one passed, from the tasks' `attempts`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

KIND = "deepsearch_task"


def _rows(files: list[Path], columns: list[str]):
    import pyarrow.parquet as pq

    for f in files:
        if f.name.endswith(".parquet"):
            yield from pq.read_table(f, columns=columns).to_pylist()
        else:
            import json

            with f.open(encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        row = json.loads(line)
                        yield {c: row.get(c) for c in columns}


def _sorted(counter: Counter) -> dict:
    return {str(k): v for k, v in sorted(counter.items(), key=lambda kv: str(kv[0]))}


def run_stats(out: Path, extra: dict | None = None) -> dict:
    import json

    from synth.dataset import data_files

    hops, depth, topology, tier, category, failed = (Counter() for _ in range(6))
    rates, gated = [], 0
    for row in _rows(data_files(out), ["hops", "depth", "topology", "tier", "category", "attempts", "pass_rate",
                                       "verification"]):
        checks = row["verification"]
        gated += "honest_solver" in (json.loads(checks) if isinstance(checks, str) else (checks or {}))
        hops[row["hops"]] += 1
        depth[row["depth"]] += 1
        topology[row["topology"]] += 1
        tier[row["tier"]] += 1
        category[row["category"]] += 1
        attempts = row["attempts"]
        attempts = json.loads(attempts) if isinstance(attempts, str) else (attempts or {})
        failed.update(attempts.get("rejected") or {})
        if row["pass_rate"] is not None:
            rates.append(row["pass_rate"])
    rejects = Counter(r["reason"] for r in _rows(sorted((out / "rejects").glob("*")), ["reason"]))
    return {
        "tasks": sum(hops.values()),
        "hops": _sorted(hops), "depth": _sorted(depth), "topology": _sorted(topology), "tier": _sorted(tier),
        "category": dict(category.most_common(25)),
        "rejects_by_reason": _sorted(rejects),
        "failed_candidates_by_reason": _sorted(failed),
        "mean_pass_rate": round(sum(rates) / len(rates), 4) if rates else None,
        "honest_gate": _gate_rate(gated, failed, rejects),
        **(extra or {}),
    }


def _gate_rate(kept: int, failed: Counter, rejects: Counter) -> dict | None:
    # kept: the tasks whose record carries the gate's check (0 with --no-honest-gate or a teacher)
    """Candidates the honest solver answered, of those it was given (gate.py; None when it did not run).
    A rejected item counts only its last failed candidate, so the rate is an upper bound when items are rejected."""
    from synth.pipelines.deepsearch.gate import REASON

    refused = failed.get(REASON, 0) + rejects.get(REASON, 0)
    if not refused and not kept:
        return None
    return {"passed": kept, "not_honestly_solvable": refused, "pass_rate": round(kept / (kept + refused), 4)}


class Stats:
    """Picklable `Job.stats` callable carrying run-level facts (seed plan size, corpus version)."""

    def __init__(self, extra: dict):
        self.extra = extra

    def __call__(self, out: Path) -> dict:
        return run_stats(Path(out), self.extra)
