"""The datatrove step of `synth generate deepsearch --teacher none`: work item -> task record | Reject.

The step opens the corpus in `setup` (per worker, never pickled) and turns each item {"index": i} into
the first candidate of item i that passes the gauntlet (task.py). Everything that decides the output
comes from the item index, the config and the seed plan, so any executor, worker count or resume gives
the same records.
"""

from __future__ import annotations

from synth.pipelines.deepsearch.task import Candidate, GenConfig, TaskBuilder, facts_of, task_id
from synth.pipelines.deepsearch.verify import NO_TEACHER

from synth.records import Reject
from synth.steps import RecordStep

COMMAND = "generate deepsearch"
CHECK_ORDER = ("support", "no_leak", "uniqueness", "shortcut", "closed_book", "tool_solver")
GATE = "honest_solver"   # present only when the solvability gate ran (gate.py)


class TemplateTasks(RecordStep):
    name = "deepsearch (template)"

    def __init__(self, corpus: str, cfg: GenConfig, plan: list[str], num: int, provenance: dict):
        super().__init__()
        self.corpus, self.cfg, self.plan, self.num, self.provenance = corpus, cfg, plan, num, provenance
        self._builder: TaskBuilder | None = None

    def setup(self, rank: int, world_size: int) -> None:
        if self._builder is None:
            from synth.pipelines.deepsearch.kb import KB

            gate = None
            if self.cfg.honest_gate:
                from synth.pipelines.deepsearch.gate import HonestGate

                gate = HonestGate(self.corpus)
            self._builder = TaskBuilder(KB(self.corpus), self.cfg, self.plan, self.num, gate)

    def process(self, item: dict) -> dict | Reject:
        index = int(item["index"])
        cand, failures, last = self._builder.build(index)
        if cand is None:
            counts = ", ".join(f"{k}={v}" for k, v in sorted(failures.items()))
            return Reject(last.reason, f"{self.cfg.attempts} candidates failed ({counts}); last: {last.detail}"[:500])
        return task_record(self._builder.kb, cand, index, self.cfg, failures, self.provenance)


def task_record(kb, cand: Candidate, index: int, cfg: GenConfig, failures, provenance: dict,
                tier: str = "unverified", pass_rate: float | None = None, edit_history: list | None = None,
                solver: dict | None = None) -> dict:
    """The deepsearch_task record of a verified candidate (tier/pass_rate/edit_history from the solvers)."""
    formal = cand.formal
    answer = kb.doc(formal.variables[formal.target])
    verification = {name: cand.verification.get(name, NO_TEACHER) for name in CHECK_ORDER}
    if GATE in cand.verification:
        verification[GATE] = cand.verification[GATE]
    formal_json = formal.to_json(kb)
    return {
        "id": task_id(cfg, index),
        "question": cand.question,
        "answer": answer.title,
        "aliases": [n for n in kb.names(answer.row) if n != answer.title],
        "answer_doc_id": answer.id,
        "hops": len(formal.links()),
        "depth": formal_json["depth"],
        "topology": cand.walk.topology,
        "facts": facts_of(kb, formal),
        "formal": formal_json,
        "operators": cand.operators,
        "verification": verification,
        "tier": tier,
        "pass_rate": pass_rate,
        "solver": solver,
        "edit_history": edit_history or [],
        "seed_entity": answer.id,
        "category": answer.categories[0] if answer.categories else None,
        "corpus_hash": kb.version,
        "attempts": {"count": sum(failures.values()) + 1, "rejected": dict(sorted(failures.items()))},
        "provenance": provenance,
    }
