"""Seed (head entity = future answer) selection: time window, rarity band, specificity, category balance.

    --since DATE         only entries with updated_at >= DATE (the paper: pages edited recently)
    rarity band          in-degree within [min_in, max_in] (hubs are generic and easy to guess) and text
                         length within [min_chars, max_chars] (enough to ground facts, not a survey)
    specificity          heuristic: a name-like title (a capital or a digit), not a generic category
                         (spelling, chat abbreviations, usage notes); a teacher filter can follow
    balance              entries grouped by primary category; each group shuffled with the seed; the
                         plan takes one from each group in turn, so rare categories are not drowned out

The plan is computed once (in the driver) and is part of every work item's deterministic input.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass

GENERIC_CATEGORIES = frozenset({"spelling", "abuse", "chat"})
_NAME_LIKE = re.compile(r"[A-Z0-9]")


@dataclass(frozen=True)
class SeedPolicy:
    since: str | None = None          # 'YYYY-MM-DD' (compared with updated_at 'YYYY-MM-DDTHH:MM:SSZ')
    min_in: int = 0
    max_in: int = 40
    min_out: int = 2
    min_chars: int = 120
    max_chars: int = 6000
    require_category: bool = True


def specific(title: str, categories: list[str]) -> bool:
    """Heuristic specificity: named things, not generic words."""
    if any(c in GENERIC_CATEGORIES for c in categories):
        return False
    if len(title) < 2 or not _NAME_LIKE.search(title):
        return False
    return not title.isdigit()


def eligible(doc, in_degree: int, out_degree: int, policy: SeedPolicy) -> str | None:
    """None when `doc` may seed a task, else the stable reason it may not."""
    if doc.is_redirect:
        return "redirect"
    if policy.since and (doc.updated_at or "") < policy.since:
        return "before_since"
    if not (policy.min_in <= in_degree <= policy.max_in):
        return "outside_rarity_band"
    if out_degree < policy.min_out:
        return "too_few_links"
    if not (policy.min_chars <= len(doc.text) <= policy.max_chars):
        return "outside_length_band"
    if policy.require_category and not doc.categories:
        return "no_category"
    if not specific(doc.title, doc.categories):
        return "not_specific"
    return None


def plan_seeds(kb, policy: SeedPolicy, seed: int, prefer: tuple[str, ...] = (),
               can_start=None) -> tuple[list[str], dict]:
    """(seed document ids in plan order, stats: eligible per category and exclusions by reason).

    `can_start(row)`: whether a walk can leave the entity at all (walk.can_start); an entity it refuses is
    excluded as `no_walkable_link`. Each item owns len(plan) // num seeds and retries only those, so a dead
    seed in the plan wasted an item's attempts: 2,101 of FOLDOC's 2,746 otherwise eligible seeds have no
    climbable chain of 2 links (`--hops 2-4`), and the items whose own seeds were nearly all dead were the
    ones rejected.

    `prefer`: document ids to plan first, in that order (those that are eligible), e.g. the entities an
    evaluated model failed on (`--from-failures`, pipelines/eval/failures.py); the balanced plan follows."""
    groups: dict[str, list[str]] = defaultdict(list)
    excluded: dict[str, int] = defaultdict(int)
    for row in range(len(kb)):
        doc = kb.corpus.doc(row)
        reason = eligible(doc, int(kb.in_degree[row]), int(kb.out_degree[row]), policy)
        if reason is None and can_start is not None and not can_start(row):
            reason = "no_walkable_link"
        if reason:
            excluded[reason] += 1
            continue
        groups[doc.categories[0] if doc.categories else "(none)"].append(doc.id)
    rng = random.Random(f"seeds:{seed}")
    queues = []
    for name in sorted(groups):
        ids = sorted(groups[name])
        rng.shuffle(ids)
        queues.append(ids)
    plan = []
    while any(queues):
        for q in queues:
            if q:
                plan.append(q.pop())
    stats = {"eligible": len(plan), "by_category": {k: len(v) for k, v in sorted(groups.items())},
             "excluded": dict(sorted(excluded.items()))}
    if prefer:
        eligible_ids = set(plan)
        first = [d for d in dict.fromkeys(prefer) if d in eligible_ids]
        chosen = set(first)
        plan = first + [d for d in plan if d not in chosen]
        stats["preferred"] = {"given": len(set(prefer)), "eligible": len(first)}
    return plan, stats
