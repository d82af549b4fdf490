"""Grounded walk over the link graph, from the seed (the future answer) outwards.

The walk first builds a chain of `min_depth` edges (so the question needs at least that many hops),
then adds edges until it has `hops`: with probability `backoff` it backs off to an earlier node and
branches there (a tree), with probability `cycle` it closes a cycle to a node already in the walk (only
when that keeps every node at least as far from the seed), otherwise it extends the newest node. Every
edge is a real link occurrence with its sentence (see facts.Edge); objects must be describable from
their own entry and not hubs (a node linked from hundreds of entries cannot be walked back from).
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field

from synth.pipelines.deepsearch.facts import Edge, describable, edges_from
from synth.pipelines.deepsearch.relations import RELATED, relation_at
from synth.pipelines.grammar import type_noun

CLIMB_K = 10  # a link is walked only if its source ranks this high when searched from its object (climbable)
CLIMB_TRIES = 8  # edges checked for climbability per choice: 4 left many nodes with a climbable link "dead"
CHAIN_BUDGET = 12  # nodes the chain may expand while backtracking out of dead ends, per walk try


@dataclass(frozen=True)
class WalkConfig:
    min_depth: int = 2
    max_hops: int = 4             # a diamond (two edges) may take a walk one past its drawn hops, not past this
    max_in_degree: int = 60       # objects linked from more entries than this are hubs: skipped
    backoff: float = 0.35         # chance to branch from an earlier node instead of extending
    cycle: float = 0.25           # chance to try closing a cycle first
    tries: int = 6                # dead ends tolerated before the walk gives up


@dataclass
class Walk:
    nodes: list[int]                                # rows; nodes[0] is the seed (answer)
    edges: list[Edge] = field(default_factory=list)

    def children(self, row: int) -> list[int]:
        return [e.dst for e in self.edges if e.src == row]

    def depths(self) -> dict[int, int]:
        """Shortest distance from the seed in the undirected walk graph."""
        adj: dict[int, set[int]] = {n: set() for n in self.nodes}
        for e in self.edges:
            adj[e.src].add(e.dst)
            adj[e.dst].add(e.src)
        dist = {self.nodes[0]: 0}
        queue = deque([self.nodes[0]])
        while queue:
            n = queue.popleft()
            for m in sorted(adj[n]):
                if m not in dist:
                    dist[m] = dist[n] + 1
                    queue.append(m)
        return dist

    @property
    def depth(self) -> int:
        return max(self.depths().values())

    @property
    def topology(self) -> str:
        if len(self.edges) >= len(self.nodes):
            return "cycle"
        return "chain" if all(len(self.children(n)) <= 1 for n in self.nodes) else "tree"


class WalkError(Exception):
    def __init__(self, reason: str, detail: str = ""):
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


def _weight(kb, edge: Edge) -> float:
    # Prefer typed relations (they say something) and specific objects (few in-links).
    typed = relation_at(kb, edge.src, edge.anchor_start) != RELATED
    return (4.0 if typed else 1.0) / math.log(2 + int(kb.in_degree[edge.dst]))


def _choose(rng: random.Random, kb, edges: list[Edge]) -> Edge:
    weights = [_weight(kb, e) for e in edges]
    return rng.choices(edges, weights=weights, k=1)[0]


def climbable(kb, edge: Edge, k: int = CLIMB_K) -> bool:
    """Can a searcher who has found the object O get back to the source S? The question only says "a <type of
    S> that <relation> O", so the searcher's query is O's name and S's type noun: S must rank in the BM25 top k
    for it (the honest solver's first climbing query, trajectories/gold.py)."""
    def rank() -> bool:
        src = kb.doc(edge.src)
        noun = type_noun(src.categories[0]) if src.categories else ""
        query = f"{kb.doc(edge.dst).title} {noun.replace(' term', '')}"
        return kb.bm25_rank(query, src.id, k)[0] is not None

    return kb.cache("climbable").get_or((edge.src, edge.dst), rank)


def _climbable_draws(rng: random.Random, kb, edges: list[Edge], tries: int = CLIMB_TRIES):
    """Weighted draws without replacement among `edges`, yielding those a searcher can climb (see
    `climbable`); at most `tries` edges are checked (each check is one BM25 query, cached)."""
    pool = list(edges)
    for _ in range(min(tries, len(pool))):
        edge = _choose(rng, kb, pool)
        pool.remove(edge)
        if climbable(kb, edge):
            yield edge


def _choose_climbable(rng: random.Random, kb, edges: list[Edge], tries: int = CLIMB_TRIES) -> Edge | None:
    """The first climbable edge of a weighted draw (see `_climbable_draws`), or None."""
    return next(_climbable_draws(rng, kb, edges, tries), None)


def _fresh_edges(kb, walk: Walk, row: int, cfg: WalkConfig, need_out: bool) -> list[Edge]:
    taken = set(walk.nodes)
    out = []
    for e in edges_from(kb, row):
        if e.dst in taken or kb.in_degree[e.dst] > cfg.max_in_degree or kb.doc(e.dst).is_redirect:
            continue
        if need_out and not any(x.dst not in taken and x.dst != e.dst for x in edges_from(kb, e.dst)):
            continue
        if not describable(kb, e.dst, tuple(walk.nodes)):
            continue
        out.append(e)
    return out


def can_start(kb, row: int, cfg: WalkConfig) -> bool:
    """Whether some chain of `min_depth` usable, climbable links leaves `row` (depth first, every link looked
    at, no draw; past CHAIN_BUDGET expansions it answers yes rather than exclude a seed unexamined). The seed
    plan excludes entities that fail it: a first hop alone was not enough, the item then died one hop on
    ("no usable link out of 'data glove' at depth 1")."""
    return _can_chain(kb, Walk([row]), cfg, [CHAIN_BUDGET])


def _can_chain(kb, walk: Walk, cfg: WalkConfig, budget: list[int]) -> bool:
    if len(walk.edges) >= cfg.min_depth or budget[0] <= 0:
        return True
    need_out = len(walk.edges) + 1 < cfg.min_depth
    for edge in _fresh_edges(kb, walk, walk.nodes[-1], cfg, need_out):
        if not climbable(kb, edge):
            continue
        budget[0] -= 1
        if _can_chain(kb, Walk(walk.nodes + [edge.dst], walk.edges + [edge]), cfg, budget):
            return True
    return False


def _chain(kb, rng: random.Random, walk: Walk, cfg: WalkConfig, budget: list[int] | None = None) -> None:
    """Extend from the newest node until the walk has `min_depth` edges in a row. Depth first with
    backtracking: when the node an edge reaches has no usable link onward, the next climbable edge is tried
    (within CHAIN_BUDGET expansions) instead of giving the walk try up at the first dead end."""
    budget = [CHAIN_BUDGET] if budget is None else budget
    if len(walk.edges) >= cfg.min_depth:
        return
    current = walk.nodes[-1]
    need_out = len(walk.edges) + 1 < cfg.min_depth
    options = _fresh_edges(kb, walk, current, cfg, need_out)
    if not options:
        raise WalkError("dead_end", f"no usable link out of {kb.doc(current).id!r} at depth {len(walk.edges)}")
    last = WalkError("dead_end", f"no link out of {kb.doc(current).id!r} a searcher could climb back")
    for edge in _climbable_draws(rng, kb, options):
        if budget[0] <= 0:
            break
        budget[0] -= 1
        walk.edges.append(edge)
        walk.nodes.append(edge.dst)
        try:
            _chain(kb, rng, walk, cfg, budget)
            return
        except WalkError as exc:
            last = exc
            del walk.edges[-1], walk.nodes[-1]
    raise last


def _cycle_edge(kb, rng: random.Random, walk: Walk) -> Edge | None:
    """An edge between two walk nodes that are not yet linked, keeping every depth (never into the seed)."""
    before = walk.depths()
    linked = {(e.src, e.dst) for e in walk.edges} | {(e.dst, e.src) for e in walk.edges}
    options = []
    for src in walk.nodes:
        for e in edges_from(kb, src):
            if e.dst in before and e.dst != walk.nodes[0] and (src, e.dst) not in linked \
                    and relation_at(kb, e.src, e.anchor_start) != RELATED:
                trial = Walk(list(walk.nodes), walk.edges + [e])
                if trial.depths() == before:
                    options.append(e)
    return rng.choice(options) if options else None


def _diamond(kb, rng: random.Random, walk: Walk, cfg: WalkConfig) -> list[Edge] | None:
    """Two edges G -> C -> N around an existing G -> P -> N, with C new: N is then reached along two
    paths (a cycle in the constraint graph) and every depth stays the same."""
    depth = walk.depths()
    options = []
    for e2 in walk.edges:                       # P -> N
        for e1 in walk.edges:                   # G -> P
            if e1.dst != e2.src or depth[e2.dst] != depth[e1.src] + 2:
                continue
            for first in edges_from(kb, e1.src):
                c = first.dst
                if c in walk.nodes or kb.in_degree[c] > cfg.max_in_degree:
                    continue
                second = next((x for x in edges_from(kb, c) if x.dst == e2.dst), None)
                if second is not None:
                    options.append((first, second))
    return list(rng.choice(options)) if options else None


def extend(kb, rng: random.Random, walk: Walk, cfg: WalkConfig) -> bool:
    """Add one edge (branch, cycle or extension), or two for a diamond; False when nothing can be added."""
    if rng.random() < cfg.cycle:
        pair = _diamond(kb, rng, walk, cfg) if len(walk.edges) + 2 <= cfg.max_hops else None
        if pair is not None:
            walk.edges.extend(pair)
            walk.nodes.append(pair[0].dst)
            return True
        edge = _cycle_edge(kb, rng, walk)
        if edge is not None:
            walk.edges.append(edge)
            return True
    order = list(walk.nodes)
    if rng.random() < cfg.backoff:
        rng.shuffle(order)            # back off: branch from an earlier node
    else:
        order.reverse()               # extend the newest node first
    for row in order:
        options = _fresh_edges(kb, walk, row, cfg, need_out=False)
        edge = _choose_climbable(rng, kb, options) if options else None
        if edge is not None:
            walk.edges.append(edge)
            walk.nodes.append(edge.dst)
            return True
    return False


def grounded_walk(kb, seed_row: int, hops: int, rng: random.Random, cfg: WalkConfig) -> Walk:
    """A walk of `hops` edges with depth >= min_depth, or WalkError. When no try reaches `hops`, the longest
    walk found that still has min_depth edges is returned: its hop count lies in the requested range too
    (the drawn count is a target, not a rule), and a seed whose graph ends one hop short is not wasted."""
    last, best = None, None
    for _ in range(cfg.tries):
        walk = Walk([seed_row])
        try:
            _chain(kb, rng, walk, cfg)
        except WalkError as exc:
            last = exc
            continue
        while len(walk.edges) < hops and extend(kb, rng, walk, cfg):
            pass
        if len(walk.edges) >= hops:
            return walk
        if best is None or len(walk.edges) > len(best.edges):
            best = walk
        last = WalkError("dead_end", f"only {len(walk.edges)} of {hops} hops from {kb.doc(seed_row).id!r}")
    if best is not None:
        return best
    raise last or WalkError("dead_end")
