"""`synth generate deepsearch --from-failures EVAL_DIR`: seed new tasks where the evaluated model fails.

From a `synth eval deepsearch` output this derives
  * entities: corpus document ids of the failed items (no sample passed), the worst items first: their answers,
    then the entities of their evidence chains. The seed plan (pipelines/deepsearch/seeds.py) puts the eligible
    ones first, so item i of the new run starts from the i-th failed entity; the usual eligibility rules still
    apply (a hub or a redirect stays out) and the rest of the plan follows for retries and larger --num;
  * hop weights: the model's failure rate per hop count (Laplace-smoothed, so a hop count the eval never saw
    weighs 1/2), used to draw the new tasks' hop counts inside --hops instead of a uniform draw;
  * topology rates: failure rate per chain / tree / cycle. The walk's --backoff (branching: trees) and --cycle
    knobs are scaled by the rate of their topology relative to the others, so equal rates change nothing.

Use it to make *training* data aimed at the weaknesses. The new tasks share answer entities with the eval
set they were mined from: report the next model on another held-out split, never on the one mined here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from synth.errors import UserError

TOPOLOGIES = ("chain", "tree", "cycle")
MAX_KNOB = 0.9  # a walk that always branches or always tries cycles dead-ends too often


@dataclass(frozen=True)
class FailureSeeds:
    entities: tuple[str, ...]
    hop_rates: dict[int, float] = field(default_factory=dict)
    topology_rates: dict[str, float] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    def hop_weights(self, lo: int, hi: int) -> tuple[float, ...]:
        """Weights of hop counts lo..hi (failure rates; 1/2 for a count the eval did not have)."""
        return tuple(self.hop_rates.get(h, 0.5) for h in range(lo, hi + 1))

    def walk_knobs(self, backoff: float, cycle: float) -> tuple[float, float]:
        """(backoff, cycle) scaled by how much more often the model fails on trees / cycles."""
        rates = {t: self.topology_rates.get(t, 0.5) for t in TOPOLOGIES}
        mean = sum(rates.values()) / len(rates)
        tree_vs_chain = (rates["tree"] + rates["chain"]) / 2
        new_backoff = backoff * rates["tree"] / tree_vs_chain if tree_vs_chain else backoff
        new_cycle = cycle * rates["cycle"] / mean if mean else cycle
        return round(min(MAX_KNOB, new_backoff), 4), round(min(MAX_KNOB, new_cycle), 4)


def _rates(groups: dict) -> dict:
    return {k: round((failed + 1) / (n + 2), 4) for k, (failed, n) in sorted(groups.items())}


def read_failures(path: Path) -> FailureSeeds:
    """FailureSeeds from an eval_result dataset of suite deepsearch; UserError (one line) otherwise."""
    from synth.dataset import dataset_kind, iter_rows

    path = Path(path)
    if dataset_kind(path) != "eval_result":
        raise UserError(f"{path}: --from-failures needs the output of `synth eval deepsearch` (an eval_result dataset)")
    failed, hops, topo, items = [], defaultdict(lambda: [0.0, 0]), defaultdict(lambda: [0.0, 0]), 0
    for row in iter_rows([str(path)]):
        record = row.record
        if record.get("suite") != "deepsearch":
            raise UserError(f"{row.path}:{row.row}: suite {record.get('suite')!r}: --from-failures reads deepsearch evals")
        items += 1
        miss = 1.0 - float(record.get("score") or 0.0)
        for groups, key in ((hops, record.get("hops")), (topo, record.get("topology"))):
            if key is not None:
                groups[key][0] += miss
                groups[key][1] += 1
        if not record.get("passed"):  # keep only what the plan needs, not the trajectories
            entities = [e for e in record.get("entities") or [record.get("answer_doc_id")] if e]
            failed.append((float(record.get("score") or 0.0), str(record["id"]), entities))
    if not failed:
        raise UserError(f"{path}: the model failed no task ({items} evaluated): nothing to mine")
    failed.sort(key=lambda f: f[:2])
    answers = [entities[0] for _, _, entities in failed if entities]
    others = [x for _, _, entities in failed for x in entities[1:]]
    entities = tuple(dict.fromkeys(answers + others))
    stats = {"eval": str(path), "items": items, "failed_items": len(failed), "entities": len(entities)}
    return FailureSeeds(entities, _rates(hops), _rates(topo), stats)


def failure_plan(path: str | Path | None, hops: tuple[int, int], backoff: float, cycle: float) -> dict:
    """What `generate deepsearch` changes for --from-failures: preferred seeds, hop weights, walk knobs and
    the manifest's `from_failures` record. Without a path: the unchanged defaults."""
    if not path:
        return {"prefer": (), "hop_weights": (), "backoff": backoff, "cycle": cycle, "stats": None}
    seeds = read_failures(Path(path))
    weights = seeds.hop_weights(*hops)
    new_backoff, new_cycle = seeds.walk_knobs(backoff, cycle)
    stats = {**seeds.stats, "hop_weights": dict(zip(range(hops[0], hops[1] + 1), weights)),
             "topology_failure_rates": seeds.topology_rates, "backoff": new_backoff, "cycle": new_cycle}
    return {"prefer": seeds.entities, "hop_weights": weights, "backoff": new_backoff, "cycle": new_cycle,
            "stats": stats}
