"""The difficulty dial: edits that make a verified task harder, and the tier of a pass rate.

    FUZZ    obscure more: plain descriptions (head noun phrases only), else every entity's name given
            by its first letters
    INJECT  replace a leaf's description with a sub-question: the leaf now links to a new entity, which
            gets the description instead (a new branch point of the evidence chain)
    DEEPEN  the same at the deepest leaf: the chain gets one more hop (depth + 1)
    REVERT  (too hard) go back to the previous version

Every edited task goes through the rule gauntlet again (support, leaks, uniqueness, shortcut) before a
solver sees it; an edit that breaks a check is not applied. The loop itself (measure -> edit ->
measure, until the pass rate is in the band or --max-rounds) is in teacher.py, which owns the solvers.
"""

from __future__ import annotations

import random

from synth.pipelines.deepsearch.task import Candidate, Failure, TaskBuilder
from synth.pipelines.deepsearch.walk import Walk, _choose, _fresh_edges

EDITS = ("FUZZ", "INJECT", "DEEPEN")


def tier_of(pass_rate: float | None, band: tuple[float, float]) -> str:
    if pass_rate is None:
        return "unverified"
    if pass_rate > band[1]:
        return "easy"
    return "rl" if pass_rate >= band[0] else "hard"


def edit_order(round_no: int) -> list[str]:
    """Round 1 tries FUZZ first, round 2 INJECT, round 3 DEEPEN, ...; the others follow as fallbacks."""
    start = (round_no - 1) % len(EDITS)
    return list(EDITS[start:] + EDITS[:start])


def apply_edit(builder: TaskBuilder, cand: Candidate, edit: str, rng: random.Random) -> tuple[Candidate, str] | None:
    """(edited candidate that passed the rule gauntlet, what was done), or None if the edit cannot apply."""
    if edit == "FUZZ":
        return _fuzz(builder, cand, rng)
    depth = cand.walk.depths()
    leaves = [n for n in cand.walk.nodes[1:] if not cand.walk.children(n)]
    if not leaves:
        return None
    deepest = max(depth[n] for n in leaves)
    pool = [n for n in leaves if depth[n] == deepest] if edit == "DEEPEN" else \
        ([n for n in leaves if depth[n] < deepest] or leaves)
    for leaf in sorted(pool, key=lambda n: cand.walk.nodes.index(n)):
        options = _fresh_edges(builder.kb, cand.walk, leaf, builder.cfg.walk_config(), need_out=False)
        if not options:
            continue
        edge = _choose(rng, builder.kb, options)
        walk = Walk(cand.walk.nodes + [edge.dst], cand.walk.edges + [edge])
        try:
            new = builder.rebuild(cand, walk, rng)
            new = builder.gauntlet(new, rng)
        except Failure:
            continue
        return new, f"{builder.kb.doc(leaf).id} -> {builder.kb.doc(edge.dst).id}"
    return None


def _fuzz(builder: TaskBuilder, cand: Candidate, rng: random.Random) -> tuple[Candidate, str] | None:
    if not cand.plain:
        try:
            trial = builder.rebuild(cand, cand.walk, rng, plain=True)
            return builder.gauntlet(trial, rng), "descriptions made plain (head noun phrases only)"
        except Failure:
            pass
    if cand.partial_p < 1.0:
        try:
            trial = builder.rebuild(cand, cand.walk, rng, partial_p=1.0)
            return builder.gauntlet(trial, rng), "every hidden entity's name given by its first letters"
        except Failure:
            return None
    return None
