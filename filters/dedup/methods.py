"""The dedup methods over the whole run's signatures, in memory the size of the signatures themselves.

Each method removes some live rows and names, for each, the row kept in its place (a current row >= 0, or
an index row g encoded as -(g + 1)). Keep-one policy inside a group: most verified, then longest, then
first in input order (`prio`: a row's rank under that order). Past runs in the index always win: their
records were already released.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from synth.filters import ann

CODES = {"exact": 1, "minhash": 2, "semantic": 3, "trajectory": 4, "answer_cap": 5}  # Removals.method


@dataclass
class Removals:
    """Per row: alive, the method that removed it (0: none), the row kept in its place and the size of the
    group (semantic: the cosine too). Written in place, ~14 B a row: the decide stage's memory is these
    arrays and the keys, with no list of removal parts to concatenate at the end (at 1M records those
    parts and their concatenation were ~60 B per removed row)."""
    alive: np.ndarray                          # bool per row: not removed by any method so far
    method: np.ndarray = field(init=False)     # int8 code of CODES, 0 where alive
    keeper: np.ndarray = field(init=False)     # the row kept in its place (index row g: -(g + 1))
    size: np.ndarray = field(init=False)       # its group's size
    score: np.ndarray | None = field(init=False, default=None)  # float32 cosine, semantic only

    def __post_init__(self):
        n = len(self.alive)
        self.method, self.keeper, self.size = np.zeros(n, np.int8), np.zeros(n, np.int64), np.zeros(n, np.int32)

    def drop(self, method: str, rows, keepers, sizes, scores=None) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return
        self.alive[rows] = False
        self.method[rows], self.keeper[rows], self.size[rows] = CODES[method], keepers, sizes
        if scores is not None:
            if self.score is None:
                self.score = np.full(len(self.alive), np.nan, np.float32)
            self.score[rows] = scores

    def count(self, method: str, index_only: bool = False) -> int:
        mine = self.method == CODES[method]
        return int((mine & (self.keeper < 0)).sum() if index_only else mine.sum())


def final_keepers(rm: Removals, rows: np.ndarray) -> np.ndarray:
    """Each removed row's keeper, followed to a record that survived: a later method may remove a twin that
    an earlier one kept (B exact copy of A, then A capped per answer entity), and a reject must name a
    record that is in the output (or in the index). Chains are at most one link per method long."""
    final = rm.keeper[rows]
    for _ in range(len(CODES) + 1):
        stale = (final >= 0) & ~rm.alive[np.maximum(final, 0)]
        if not stale.any():
            break
        final[stale] = rm.keeper[final[stale]]
    return final


def priority(verified: np.ndarray, length: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Each row's rank under the keep-one policy (int32 below 2^31 rows: 4 B a row for the whole stage)."""
    order = np.lexsort((pos, -length, -verified))
    prio = np.empty(len(order), dtype=np.int32 if len(order) < 2**31 else np.int64)
    prio[order] = np.arange(len(order), dtype=prio.dtype)
    return prio


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For sorted keys: is-first flags, index of each element's group start, and each element's group size."""
    first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(keys)), 0))
    bounds = np.r_[np.flatnonzero(first), len(keys)]
    sizes = np.repeat(np.diff(bounds), np.diff(bounds))
    return first, start, sizes


def by_key(method: str, values: np.ndarray, rm: Removals, prio: np.ndarray, past: np.ndarray) -> None:
    """Rows with equal non-zero key values are duplicates (exact text hash, trajectory key)."""
    rows = np.flatnonzero(rm.alive & (values != 0))
    if len(past) and len(rows):
        order = np.argsort(past, kind="stable")
        at = np.minimum(np.searchsorted(past[order], values[rows]), len(past) - 1)
        hit = past[order][at] == values[rows]
        rm.drop(method, rows[hit], -(order[at[hit]] + 1), np.ones(hit.sum()) * 2)
        rows = rows[~hit]
    rows = rows[np.lexsort((prio[rows], values[rows]))]
    first, start, sizes = _groups(values[rows])
    rm.drop(method, rows[~first], rows[start[~first]], sizes[~first])


def minhash(clusters, rm: Removals, prio: np.ndarray) -> None:
    """`clusters`: (cluster id, member) arrays from datatrove's cluster stage; members >= 0 are current
    rows, < 0 index rows. A cluster keeps its first index member if it has one, else its best live row."""
    cluster, member = clusters
    current = member >= 0
    live = ~current | rm.alive[np.where(current, member, 0)]
    cluster, member, current = cluster[live], member[live], current[live]
    rank = np.where(current, prio[np.where(current, member, 0)], -(member + 1))
    order = np.lexsort((rank, current, cluster))
    cluster, member = cluster[order], member[order]
    first, start, sizes = _groups(cluster)
    dup = ~first & (member >= 0)
    rm.drop("minhash", member[dup], member[start[dup]], sizes[dup])


def semantic(vectors, rows: np.ndarray, rm: Removals, prio: np.ndarray, threshold: float, k: int,
             kind: str, seed: int, past=None) -> dict:
    """Cosine >= threshold between k-nearest neighbours links rows; connected components are clusters.
    `vectors[i]` is row rows[i]'s embedding; `past` = (index embeddings, their index rows) or None."""
    info = {"ann": None, "components": 0}
    if past is not None and len(past[0]) and len(rows):
        index = ann.build(past[0], kind, seed)
        sims, ids = ann.search(index, vectors, 1)
        hit = sims[:, 0] >= threshold
        rm.drop("semantic", rows[hit], -(past[1][ids[hit, 0]] + 1), np.full(hit.sum(), 2), sims[hit, 0])
        keep = np.flatnonzero(~hit)
        rows, vectors = rows[keep], vectors.subset(keep) if hasattr(vectors, "subset") else vectors[keep]
    if len(rows) < 2:
        return info
    index = ann.build(vectors, kind, seed)
    info["ann"] = ann.describe(index)
    sims, ids = ann.search(index, vectors, k + 1)
    del index
    labels = _components(sims, ids, threshold)
    order = np.lexsort((prio[rows], labels))
    first, start, sizes = _groups(labels[order])
    dup, keep = order[~first], order[start[~first]]
    scores = np.einsum("ij,ij->i", vectors[dup], vectors[keep]) if len(dup) else np.zeros(0)
    rm.drop("semantic", rows[dup], rows[keep], sizes[~first], scores)
    info["components"] = int((sizes[first] > 1).sum())
    return info


def _components(sims: np.ndarray, ids: np.ndarray, threshold: float) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(ids)
    src = np.repeat(np.arange(n), ids.shape[1])
    dst, sim = ids.ravel(), sims.ravel()
    ok = (dst >= 0) & (dst != src) & (sim >= threshold)
    graph = coo_matrix((np.ones(ok.sum(), np.int8), (src[ok], dst[ok])), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)[1]


def answer_cap(answers: np.ndarray, rm: Removals, prio: np.ndarray, cap: int, past: np.ndarray) -> None:
    """At most `cap` records per answer entity, counting those already in the index."""
    rows = np.flatnonzero(rm.alive & (answers != 0))
    rows = rows[np.lexsort((prio[rows], answers[rows]))]
    values = answers[rows]
    _, start, sizes = _groups(values)
    order = np.argsort(past, kind="stable")
    ordered = past[order]
    lo, hi = np.searchsorted(ordered, values, "left"), np.searchsorted(ordered, values, "right")
    prior = hi - lo  # records with this answer already in the index
    over = (np.arange(len(rows)) - start) + prior >= cap
    first_past = -(order[np.minimum(lo, max(0, len(order) - 1))] + 1) if len(order) else np.zeros(len(rows), np.int64)
    keepers = np.where(prior > 0, first_past, rows[start])
    rm.drop("answer_cap", rows[over], keepers[over], sizes[over] + prior[over])


def read_minhash_clusters(folder: Path, offsets: np.ndarray, index) -> tuple[np.ndarray, np.ndarray]:
    """Cluster membership from datatrove's `*.clusters` files, as (cluster id, member code) arrays."""
    from synth.filters.dedup.minhash import INDEX_FILE_BASE, read_clusters

    clusters, members = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for file_id, docs, ids in read_clusters(folder):
        if file_id >= INDEX_FILE_BASE:
            if index is None or (file_id - INDEX_FILE_BASE) not in index.by_seq:
                continue
            codes = -(index.row_of(file_id - INDEX_FILE_BASE, docs) + 1)
        elif file_id < len(offsets) - 1:
            codes = offsets[file_id] + docs
        else:
            continue
        clusters.append(ids)
        members.append(codes)
    return np.concatenate(clusters), np.concatenate(members)
