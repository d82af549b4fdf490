"""The link graph: build pass 3 (resolve staged links, degrees) and the runtime `LinkGraph`.

Edges are link occurrences from article to article (redirects followed, self-links dropped), so one
pair can appear several times with different anchors. Degrees count distinct neighbours; `*_links`
count occurrences. Rows index `data/documents.parquet`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import pyarrow as pa

from synth.env.csr import RowSpill, counting_sort, distinct_counts, save_rows
from synth.env.ingest import Ingested
from synth.env.layout import DEGREES_SCHEMA, LINKS_SCHEMA, UNRESOLVED_SCHEMA, CorpusPaths
from synth.env.writers import BatchWriter, iter_batches


LINK_SPANS = "link_spans.arrow"  # anchor, start, end per link id: uncompressed IPC, memory-mapped at run time
SPANS_SCHEMA = pa.schema([("anchor", pa.string()), ("start", pa.int32()), ("end", pa.int32())])


@dataclass
class GraphStats:
    links: int = 0
    unresolved: int = 0
    self_links: int = 0
    edges: int = 0  # distinct (src, dst) pairs
    links_hash: str = ""


def build_graph(state: Ingested, paths: CorpusPaths, tick: Callable[[int], None]) -> GraphStats:
    stats = GraphStats()
    graph_dir = paths.links.parent
    src, dst = RowSpill(paths.staging / "src.i32"), RowSpill(paths.staging / "dst.i32")
    digest = hashlib.sha256()
    seen = 0
    with BatchWriter(paths.links, LINKS_SCHEMA) as links, BatchWriter(paths.unresolved, UNRESOLVED_SCHEMA) as bad, \
            BatchWriter(graph_dir / LINK_SPANS, SPANS_SCHEMA, fmt="ipc") as spans:
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
                spans.add(row)
                src.add(src_row)
                dst.add(row["dst_row"])
                digest.update(f"{row['src']}\t{target}\t{row['anchor']}\t{row['start']}\t{row['end']}\n".encode())
    src_rows, dst_rows = src.close(), dst.close()
    stats.links = len(src_rows)
    stats.links_hash = digest.hexdigest()
    stats.edges = _write_csr(state, paths, src_rows, dst_rows)
    return stats


def _write_csr(state: Ingested, paths: CorpusPaths, src: np.ndarray, dst: np.ndarray) -> int:
    """graph/*.npy (see synth.env.csr) and degrees.parquet; returns the distinct (src, dst) pairs."""
    n, graph_dir = len(state.rows), paths.links.parent
    save_rows(src, graph_dir / "src_rows.npy")
    save_rows(dst, graph_dir / "dst_rows.npy")
    counting_sort(src, n, graph_dir, "out")
    counting_sort(dst, n, graph_dir, "in")
    out_ptr, in_ptr = (np.load(graph_dir / f"{d}_ptr.npy") for d in ("out", "in"))
    out_ids, in_ids = (np.load(graph_dir / f"{d}_ids.npy", mmap_mode="r") for d in ("out", "in"))
    out_deg, in_deg = distinct_counts(out_ptr, out_ids, dst, n), distinct_counts(in_ptr, in_ids, src, n)
    out_links, in_links = np.diff(out_ptr), np.diff(in_ptr)
    with BatchWriter(paths.degrees, DEGREES_SCHEMA) as writer:
        for doc_id, row in state.rows.items():
            writer.add({"id": doc_id, "row": row, "out_degree": int(out_deg[row]), "in_degree": int(in_deg[row]),
                        "out_links": int(out_links[row]), "in_links": int(in_links[row])})
    return int(out_deg.sum())


@dataclass(frozen=True)
class Link:
    src_row: int
    dst_row: int
    anchor: str | None
    start: int | None
    end: int | None


class _Column:
    """O(log chunks) access to one value of a chunked Arrow column (pyarrow's own scans the chunks)."""

    def __init__(self, column: pa.ChunkedArray):
        self._chunks = column.chunks
        self._starts = np.cumsum([0] + [len(c) for c in self._chunks])

    def __getitem__(self, i: int):
        chunk = int(np.searchsorted(self._starts, i, side="right")) - 1
        return self._chunks[chunk][i - int(self._starts[chunk])].as_py()


class LinkGraph:
    """CSR adjacency both ways over document rows, memory-mapped from graph/*.npy and graph/link_spans.arrow
    (a corpus built before those existed: sorted in RAM from graph/links.parquet)."""

    def __init__(self, links_path: Path, n_rows: int):
        graph_dir = links_path.parent
        if not (graph_dir / "in_ptr.npy").is_file():
            self._load_in_memory(links_path, n_rows)
            return
        mapped = {name: np.load(graph_dir / f"{name}.npy", mmap_mode="r")
                  for name in ("src_rows", "dst_rows", "out_ptr", "out_ids", "in_ptr", "in_ids")}
        self._src, self._dst = mapped["src_rows"], mapped["dst_rows"]
        self._out_ptr, self._out_order = mapped["out_ptr"], mapped["out_ids"]
        self._in_ptr, self._in_order = mapped["in_ptr"], mapped["in_ids"]
        spans = pa.ipc.open_file(pa.memory_map(str(graph_dir / LINK_SPANS), "r")).read_all()  # zero-copy
        self._anchor, self._start, self._end = (_Column(spans.column(c)) for c in ("anchor", "start", "end"))

    def _load_in_memory(self, links_path: Path, n_rows: int) -> None:
        import pyarrow.parquet as pq

        table = pq.read_table(links_path, columns=["src_row", "dst_row", "anchor", "start", "end"])
        self._src = table.column("src_row").to_numpy().astype(np.int32)
        self._dst = table.column("dst_row").to_numpy().astype(np.int32)
        self._anchor, self._start, self._end = (_Column(table.column(c)) for c in ("anchor", "start", "end"))
        self._out_order = np.argsort(self._src, kind="stable")
        self._in_order = np.argsort(self._dst, kind="stable")
        self._out_ptr = np.searchsorted(self._src[self._out_order], np.arange(n_rows + 1))
        self._in_ptr = np.searchsorted(self._dst[self._in_order], np.arange(n_rows + 1))

    def __len__(self) -> int:
        return len(self._src)

    def _link(self, i: int) -> Link:
        i = int(i)
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
