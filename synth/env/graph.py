"""The link graph: build pass 3 (resolve staged links, degrees) and the runtime `LinkGraph`.

Edges are link occurrences from article to article (redirects followed, self-links dropped), so one
pair can appear several times with different anchors. Degrees count distinct neighbours; `*_links`
count occurrences. Rows index `data/documents.parquet`.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.env.ingest import Ingested
from synth.env.layout import DEGREES_SCHEMA, LINKS_SCHEMA, UNRESOLVED_SCHEMA, CorpusPaths
from synth.env.writers import BatchWriter, iter_batches


@dataclass
class GraphStats:
    links: int = 0
    unresolved: int = 0
    self_links: int = 0
    edges: int = 0  # distinct (src, dst) pairs
    links_hash: str = ""


def build_graph(state: Ingested, paths: CorpusPaths, tick: Callable[[int], None]) -> GraphStats:
    stats = GraphStats()
    src, dst = array("i"), array("i")
    digest = hashlib.sha256()
    seen = 0
    with BatchWriter(paths.links, LINKS_SCHEMA) as links, BatchWriter(paths.unresolved, UNRESOLVED_SCHEMA) as bad:
        for batch in iter_batches(paths.staging / "links.parquet"):
            for row in batch.to_pylist():
                seen += 1
                tick(seen)
                src_row = state.rows.get(row["src"])
                if src_row is None:
                    continue  # its page was rejected
                target = state.titles.resolve(row["target"])
                if target is None or target not in state.rows:
                    stats.unresolved += 1
                    bad.add(row)
                    continue
                if target == row["src"]:
                    stats.self_links += 1
                    continue
                row.update(dst=target, src_row=src_row, dst_row=state.rows[target])
                links.add(row)
                src.append(src_row)
                dst.append(row["dst_row"])
                digest.update(f"{row['src']}\t{target}\t{row['anchor']}\t{row['start']}\t{row['end']}\n".encode())
    stats.links = len(src)
    stats.links_hash = digest.hexdigest()
    stats.edges = _write_degrees(state, paths, np.frombuffer(src, np.int32), np.frombuffer(dst, np.int32))
    return stats


def _write_degrees(state: Ingested, paths: CorpusPaths, src: np.ndarray, dst: np.ndarray) -> int:
    n = len(state.rows)
    pairs = np.unique(src.astype(np.int64) * n + dst) if len(src) else np.zeros(0, np.int64)
    out_deg = np.bincount(pairs // n, minlength=n) if n else np.zeros(0, np.int64)
    in_deg = np.bincount(pairs % n, minlength=n) if n else np.zeros(0, np.int64)
    out_links, in_links = np.bincount(src, minlength=n), np.bincount(dst, minlength=n)
    with BatchWriter(paths.degrees, DEGREES_SCHEMA) as writer:
        for doc_id, row in state.rows.items():
            writer.add({"id": doc_id, "row": row, "out_degree": int(out_deg[row]), "in_degree": int(in_deg[row]),
                        "out_links": int(out_links[row]), "in_links": int(in_links[row])})
    return len(pairs)


@dataclass(frozen=True)
class Link:
    src_row: int
    dst_row: int
    anchor: str | None
    start: int | None
    end: int | None


class LinkGraph:
    """CSR adjacency both ways over document rows, loaded from graph/links.parquet."""

    def __init__(self, links_path: Path, n_rows: int):
        import pyarrow.parquet as pq

        table = pq.read_table(links_path, columns=["src_row", "dst_row", "anchor", "start", "end"])
        self._src = table.column("src_row").to_numpy().astype(np.int32)
        self._dst = table.column("dst_row").to_numpy().astype(np.int32)
        self._anchor = table.column("anchor").to_pylist()
        self._start = table.column("start").to_pylist()
        self._end = table.column("end").to_pylist()
        self._out_order = np.argsort(self._src, kind="stable")
        self._in_order = np.argsort(self._dst, kind="stable")
        self._out_ptr = np.searchsorted(self._src[self._out_order], np.arange(n_rows + 1))
        self._in_ptr = np.searchsorted(self._dst[self._in_order], np.arange(n_rows + 1))

    def __len__(self) -> int:
        return len(self._src)

    def _link(self, i: int) -> Link:
        return Link(int(self._src[i]), int(self._dst[i]), self._anchor[i], self._start[i], self._end[i])

    def links_from(self, row: int) -> list[Link]:
        """Outgoing link occurrences in text order."""
        return [self._link(i) for i in self._out_order[self._out_ptr[row]: self._out_ptr[row + 1]]]

    def links_to(self, row: int) -> list[Link]:
        return [self._link(i) for i in self._in_order[self._in_ptr[row]: self._in_ptr[row + 1]]]

    def out_neighbors(self, row: int) -> list[int]:
        """Distinct target rows, in order of first mention."""
        rows = self._dst[self._out_order[self._out_ptr[row]: self._out_ptr[row + 1]]]
        return list(dict.fromkeys(int(r) for r in rows))

    def in_neighbors(self, row: int) -> list[int]:
        rows = self._src[self._in_order[self._in_ptr[row]: self._in_ptr[row + 1]]]
        return list(dict.fromkeys(int(r) for r in rows))

    def out_degree(self, row: int) -> int:
        return len(self.out_neighbors(row))

    def in_degree(self, row: int) -> int:
        return len(self.in_neighbors(row))
