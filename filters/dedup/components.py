"""MinHash stage 3: connected clusters of the checked candidate pairs, as datatrove's `NNNNNN.clusters`
files (doc, cluster id) that the decide stage reads.

datatrove's cluster stage keeps a Python dict per (file, doc) node (~200 B each) and unions one pair at a
time. Here nodes are dense integers (a file's first node + doc), the union-find forest is one int64 array
(8 B per record that has a signature, the only part that grows with the run), and pairs are read and
merged in chunks, vectorised: link every pair's roots (the smaller root wins), repeat until each pair
shares a root, then halve paths.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from datatrove.pipeline.base import PipelineStep

PAIRS_PER_CHUNK = 1 << 18


def roots(parent: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    found = parent[nodes]
    while True:
        up = parent[found]
        if np.array_equal(up, found):
            return found
        found = up


def union(parent: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Join the trees of every pair (a[i], b[i])."""
    while len(a):
        ra, rb = roots(parent, a), roots(parent, b)
        apart = ra != rb
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]
        low, high = np.minimum(ra, rb), np.maximum(ra, rb)
        np.minimum.at(parent, high, low)  # a root that several pairs link keeps the smallest; the rest retry


def flatten(parent: np.ndarray) -> None:
    while True:
        up = parent[parent]
        if np.array_equal(up, parent):
            return
        parent[:] = up


def _chunks(paths: list[Path]):
    for path in paths:
        rows = path.stat().st_size // 16
        for lo in range(0, rows, PAIRS_PER_CHUNK):
            yield np.fromfile(path, dtype="<u4", count=min(PAIRS_PER_CHUNK, rows - lo) * 4, offset=lo * 16).reshape(-1, 4)


class ArrayCluster(PipelineStep):
    name = "🎯 MinHash clusters"
    type = "🫂 - DEDUP"

    def __init__(self, dups_folder: str, folder: str):
        super().__init__()
        self.dups_folder, self.folder = Path(dups_folder), Path(folder)

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        with self.track_time():
            paths = sorted(self.dups_folder.glob("*.dups"))
            files, first = self._node_ranges(paths)
            parent = np.arange(int(first[-1]), dtype=np.int64)
            for pairs in _chunks(paths):
                a = first[np.searchsorted(files, pairs[:, 0])] + pairs[:, 1]
                b = first[np.searchsorted(files, pairs[:, 2])] + pairs[:, 3]
                union(parent, a.astype(np.int64), b.astype(np.int64))
            flatten(parent)
            self._write(parent, files, first)
        return
        yield  # a generator, as datatrove steps are

    def _node_ranges(self, paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
        """Sorted file ids seen in the pairs and each one's first node (last entry: the node count)."""
        top: dict[int, int] = {}
        for pairs in _chunks(paths):
            for f, d in ((pairs[:, 0], pairs[:, 1]), (pairs[:, 2], pairs[:, 3])):
                ids, at = np.unique(f, return_inverse=True)
                most = np.zeros(len(ids), np.int64)
                np.maximum.at(most, at, d)
                for i, m in zip(ids.tolist(), most.tolist()):
                    top[i] = max(top.get(i, 0), m)
        files = np.array(sorted(top), dtype=np.int64)
        first = np.cumsum([0] + [top[f] + 1 for f in files.tolist()]).astype(np.int64)
        return files, first

    def _write(self, parent: np.ndarray, files: np.ndarray, first: np.ndarray) -> None:
        size = np.bincount(parent, minlength=len(parent))
        clustered = size[parent] > 1
        self.folder.mkdir(parents=True, exist_ok=True)
        for i, file_id in enumerate(files.tolist()):
            lo, hi = int(first[i]), int(first[i + 1])
            docs = np.flatnonzero(clustered[lo:hi])
            out = np.stack([docs, parent[lo:hi][docs]], axis=1).astype("<u4")
            target = self.folder / f"{file_id:06d}.clusters"
            tmp = target.with_name(f".{target.name}.tmp")
            out.tofile(tmp)
            os.replace(tmp, target)
            self.stat_update("duplicates", value=len(docs))
        self.stat_update("clusters", value=int((size > 1).sum()))
