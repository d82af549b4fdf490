"""One work item -> one verified deep-search task (template path), or a reject with a stable reason.

An item makes up to `attempts` candidates; candidate j of item i starts from seed plan[(i + j*num) %
len(plan)], so no two items share a seed while the plan lasts. A candidate is: grounded walk -> formal
question (with operators) -> template question -> gauntlet. Two repairs run before a candidate is given
up: `not_unique` adds a branch at the target (another constraint, which makes a tree), `shortcut` makes
the leaf descriptions plain (FUZZ: head noun phrases only, no modifier phrase). Every failed
candidate's reason is counted in the task's `attempts` and, if all fail, the last reason rejects it.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field

from synth.pipelines.deepsearch import operators as ops
from synth.pipelines.deepsearch import verify as vf
from synth.pipelines.deepsearch.facts import Edge
from synth.pipelines.deepsearch.formal import Formal, build_formal, structure_errors
from synth.pipelines.deepsearch.verbalize import verbalize
from synth.pipelines.deepsearch.walk import Walk, WalkConfig, WalkError, _choose, _fresh_edges, grounded_walk


@dataclass(frozen=True)
class GenConfig:
    seed: int = 0
    hops: tuple[int, int] = (2, 4)
    backoff: float = 0.35
    cycle: float = 0.4
    max_in_degree: int = 60
    partial_p: float = 0.5
    shortcut_k: int = 10
    attempts: int = 8
    repairs: int = 3
    hop_weights: tuple[float, ...] = ()   # weights of hops lo..hi (--from-failures); empty: uniform draw
    honest_gate: bool = False     # the honest search solver must answer each candidate (gate.py)
    preferred: int = 0            # seeds at the head of the plan to retry among first (--from-failures)

    def walk_config(self) -> WalkConfig:
        return WalkConfig(min_depth=self.hops[0], max_hops=self.hops[1], max_in_degree=self.max_in_degree,
                          backoff=self.backoff, cycle=self.cycle)


class Failure(Exception):
    def __init__(self, reason: str, detail: str = ""):
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


def rng_for(*parts) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass
class Candidate:
    """Everything known about one candidate task while it is being built and checked."""

    walk: Walk
    formal: Formal
    operators: list[dict]
    question: str = ""
    verification: dict = field(default_factory=dict)
    plain: bool = False                # FUZZ made the descriptions plain (kept across rebuilds)
    partial_p: float = 0.5             # chance an entity's name is given as its first letters


class TaskBuilder:
    def __init__(self, kb, cfg: GenConfig, plan: list[str], num: int, gate=None):
        self.kb, self.cfg, self.plan, self.num, self.gate = kb, cfg, plan, num, gate

    def build(self, index: int) -> tuple[Candidate | None, Counter, Failure | None]:
        """(the first candidate that passes every check, failed reasons per attempt, last failure)."""
        failures: Counter = Counter()
        last = None
        for attempt in range(self.cfg.attempts):
            seed_id = self.seed_of(index, attempt)
            try:
                cand = self.attempt(index, attempt, seed_id)
                self.gate_check(cand, index)
                return cand, failures, None
            except Failure as exc:
                failures[exc.reason] += 1
                last = exc
        return None, failures, last

    def seed_of(self, index: int, attempt: int) -> str:
        """The seed entity of an attempt, never one another item draws (unless items outnumber seeds). With
        preferred seeds (the entities an evaluated model failed on), the
        first half of the attempts stay among them: a candidate the checks or the gate refuse is retried on
        another failed entity, not on the balanced plan behind them."""
        if self.cfg.preferred and attempt < max(1, self.cfg.attempts // 2):
            return self.plan[(index + attempt * self.num) % self.cfg.preferred]
        # item i's k-th seed is plan[i + k*num]: no two items share a seed while k < len(plan) // num; past that
        # an item retries its own seeds (a new walk each time) rather than wrapping onto another item's, which
        # gave 57 of 188 tasks a repeated answer once --attempts went from 8 to 64
        own = max(1, len(self.plan) // self.num)
        return self.plan[(index + (attempt % own) * self.num) % len(self.plan)]

    def gate_check(self, cand: Candidate, index: int) -> None:
        """The solvability gate (after the repairs: the solver sees the final question); Failure when it fails."""
        if self.gate is None:
            return
        answer = self.kb.doc(cand.formal.variables[cand.formal.target])
        aliases = [n for n in self.kb.names(answer.row) if n != answer.title]
        check = cand.verification["honest_solver"] = self.gate.check(task_id(self.cfg, index), cand.question,
                                                                    answer.title, aliases)
        if check["status"] == "failed":
            raise Failure(check["reason"], check["detail"])

    def attempt(self, index: int, attempt: int, seed_id: str) -> Candidate:
        rng = rng_for(self.cfg.seed, index, attempt)
        lo, hi = self.cfg.hops
        hops = rng.choices(range(lo, hi + 1), self.cfg.hop_weights)[0] if self.cfg.hop_weights else rng.randint(lo, hi)
        try:
            walk = grounded_walk(self.kb, self.kb.row(seed_id), hops, rng, self.cfg.walk_config())
        except WalkError as exc:
            raise Failure(exc.reason, exc.detail) from None
        cand = self._candidate(walk, rng)
        return self.gauntlet(cand, rng)

    def _candidate(self, walk: Walk, rng: random.Random, plain: bool = False,
                   partial_p: float | None = None) -> Candidate:
        partial_p = self.cfg.partial_p if partial_p is None else partial_p
        try:
            formal, logs = build_formal(self.kb, walk, rng, partial_p, plain=plain)
        except ValueError as exc:
            raise Failure("no_description", str(exc)) from None
        if plain:
            logs.append(ops.log("fuzz", formal.target, "descriptions with modifiers", "head noun phrases only"))
        errors = structure_errors(formal, self.cfg.hops[0])
        if errors:
            raise Failure("bad_structure", "; ".join(errors))
        return Candidate(walk, formal, logs, verbalize(formal, rng), plain=plain, partial_p=partial_p)

    def rebuild(self, cand: Candidate, walk: Walk, rng: random.Random, plain: bool = False,
                partial_p: float | None = None) -> Candidate:
        """A new candidate from `walk` keeping `cand`'s earlier FUZZ edits (plus `plain`)."""
        return self._candidate(walk, rng, cand.plain or plain, cand.partial_p if partial_p is None else partial_p)

    # ---- the gauntlet with its repairs ---------------------------------------------------------------
    def gauntlet(self, cand: Candidate, rng: random.Random) -> Candidate:
        """Run the rule checks; repair not_unique / shortcut up to `repairs` times; Failure otherwise."""
        for _ in range(self.cfg.repairs + 1):
            failed = self._check(cand)
            if failed is None:
                return cand
            repaired = None
            if failed == "not_unique":
                repaired = self._branch(cand, rng)
            elif failed == "shortcut":
                repaired = self._fuzz(cand, rng)
            if repaired is None:
                detail = cand.verification[_check_of(failed)].get("detail") or ""
                raise Failure(failed, detail)
            cand = repaired
        raise Failure(failed, "repairs exhausted")

    def _check(self, cand: Candidate) -> str | None:
        """Run the rule checks in cost order; the failing reason, or None when all pass."""
        kb, formal = self.kb, cand.formal
        answer = formal.variables[formal.target]
        v = cand.verification = {}
        v["support"] = vf.check_support(kb, facts_of(kb, formal), kb.doc(answer).title, kb.doc(answer).id)
        if v["support"]["status"] == "failed":
            return "no_support"
        others = [r for name, r in formal.variables.items() if name != formal.target]
        v["no_leak"] = vf.check_no_leak(kb, cand.question, answer, others)
        if v["no_leak"]["status"] == "failed":
            return v["no_leak"]["reason"]
        v["uniqueness"], _ = vf.check_uniqueness(kb, formal)
        if v["uniqueness"]["status"] == "failed":
            return v["uniqueness"]["reason"]
        v["shortcut"] = vf.check_shortcut(kb, cand.question, kb.doc(answer).id, self.cfg.shortcut_k,
                                          hidden_intermediates(kb, formal))
        if v["shortcut"]["status"] == "failed":
            return "shortcut"
        return None

    def _branch(self, cand: Candidate, rng: random.Random) -> Candidate | None:
        """Repair not_unique: one more link out of the target (a new constraint), if hops allow."""
        if len(cand.walk.edges) >= self.cfg.hops[1]:
            return None
        options = _fresh_edges(self.kb, cand.walk, cand.walk.nodes[0], self.cfg.walk_config(), need_out=False)
        if not options:
            return None
        edge: Edge = _choose(rng, self.kb, options)
        walk = Walk(cand.walk.nodes + [edge.dst], cand.walk.edges + [edge])
        try:
            return self.rebuild(cand, walk, rng)
        except Failure:
            return None

    def _fuzz(self, cand: Candidate, rng: random.Random) -> Candidate | None:
        """Repair shortcut (FUZZ): plain descriptions (the modifier phrases are what a search finds)."""
        if cand.plain:
            return None
        try:
            return self.rebuild(cand, cand.walk, rng, plain=True)
        except Failure:
            return None


def task_id(cfg: GenConfig, index: int) -> str:
    return f"deepsearch-s{cfg.seed}-{index:06d}"


def hidden_intermediates(kb, formal: Formal) -> dict[str, str]:
    """doc id -> variable of the entities a solver must not reach in one step: every variable but the
    target and the leaves (a described leaf is where the chain is meant to be entered)."""
    leaves = set(formal.leaves())
    return {kb.doc(row).id: var for var, row in formal.variables.items() if var != formal.target and var not in leaves}


def _check_of(reason: str) -> str:
    return {"no_support": "support", "answer_leak": "no_leak", "entity_leak": "no_leak",
            "not_unique": "uniqueness", "unsatisfiable": "uniqueness", "shortcut": "shortcut"}[reason]


def facts_of(kb, formal: Formal) -> list[dict]:
    """The evidence chain in solving order: leaf descriptions (deepest first), then links toward the target."""
    depth = formal.depths()
    out = []
    descs = sorted((c for c in formal.constraints if c.kind == "description"), key=lambda c: (-depth[c.subject], c.id))
    for c in descs:
        d, doc = c.edge, kb.doc(formal.variables[c.subject])
        out.append({"kind": "description", "constraint": c.id, "subject": doc.title, "subject_id": doc.id,
                    "relation": "is described as", "object": formal.constants[c.constant].text, "object_id": None,
                    "doc_id": doc.id,
                    "start": d.start, "end": d.end, "quote": d.quote})
    links = sorted(formal.links(), key=lambda c: (-depth[c.object], -depth[c.subject], c.id))
    for c in links:
        e, src, dst = c.edge, kb.doc(formal.variables[c.subject]), kb.doc(formal.variables[c.object])
        relation = c.value or "related"
        out.append({"kind": "link", "constraint": c.id, "subject": src.title, "subject_id": src.id,
                    "relation": relation, "object": dst.title, "object_id": dst.id, "doc_id": src.id,
                    "start": e.start, "end": e.end, "quote": src.text[e.start:e.end],
                    "anchor_start": e.anchor_start, "anchor_end": e.anchor_end})
    return out
