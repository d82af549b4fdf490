"""The on-disk link graph at growing sizes: build (external counting sort) and run-time memory of
`LinkGraph`, memory-mapped vs the in-memory loader it replaces (same process kind, same files).

    python bench/graph_disk.py --sizes 200000 2000000 --links-per-page 12

A synthetic graph (no parsing: pages link to pseudo-random pages, anchors of ~10 characters) is written
the way `corpus build` writes it: graph/links.parquet, link_spans.arrow, and the CSR .npy files by
`synth.env.csr`. Each step runs in its own process (so each peak RSS is its own): `build` (peak RSS of the CSR build), `mapped`
and `loaded` (open the graph, then 20k random links_from + links_to calls: peak RSS, anonymous RSS at the
end, calls per second of wall and of CPU).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def anon_mb() -> float:
    """Anonymous resident memory now: what the process holds itself. Peak RSS also counts the pages of
    memory-mapped files it touched, which the kernel drops under pressure (page cache)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def write_links(folder: Path, pages: int, per_page: int) -> None:
    """links.parquet + link_spans.arrow + raw src/dst rows, streamed in blocks of pages."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synth.env.csr import RowSpill
    from synth.env.graph import LINK_SPANS, SPANS_SCHEMA

    src, dst = RowSpill(folder / "src.i32"), RowSpill(folder / "dst.i32")
    schema = pa.schema([("src_row", pa.int32()), ("dst_row", pa.int32()), ("anchor", pa.string()),
                        ("start", pa.int32()), ("end", pa.int32())])
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(folder / "links.parquet", schema) as parquet, \
            pa.OSFile(str(folder / LINK_SPANS), "wb") as sink, pa.ipc.new_file(sink, SPANS_SCHEMA) as spans:
        for first in range(0, pages, 50_000):
            rows = np.repeat(np.arange(first, min(first + 50_000, pages), dtype=np.int32), per_page)
            targets = rng.integers(0, pages, len(rows)).astype(np.int32)
            starts = (np.tile(np.arange(per_page, dtype=np.int32), len(rows) // per_page) * 120)
            anchors = pa.array([f"topic {t}" for t in targets.tolist()])
            block = {"src_row": rows, "dst_row": targets, "anchor": anchors, "start": starts, "end": starts + 10}
            parquet.write_table(pa.table(block, schema=schema))
            spans.write_batch(pa.record_batch([anchors, pa.array(starts), pa.array(starts + 10)], schema=SPANS_SCHEMA))
            src._buf.extend(rows.tolist())
            dst._buf.extend(targets.tolist())
            src._flush()
            dst._flush()
    src.close(), dst.close()


def build(folder: Path, pages: int) -> dict:
    from synth.env.csr import counting_sort, distinct_counts, save_rows

    start = time.perf_counter()
    src = np.memmap(folder / "src.i32", dtype=np.int32, mode="r")
    dst = np.memmap(folder / "dst.i32", dtype=np.int32, mode="r")
    save_rows(src, folder / "src_rows.npy")
    save_rows(dst, folder / "dst_rows.npy")
    counting_sort(src, pages, folder, "out")
    counting_sort(dst, pages, folder, "in")
    ptr, ids = np.load(folder / "out_ptr.npy"), np.load(folder / "out_ids.npy", mmap_mode="r")
    edges = int(distinct_counts(ptr, ids, dst, pages).sum())
    return {"links": len(src), "edges": edges, "seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": peak_mb()}


def walk(folder: Path, pages: int, how: str) -> dict:
    from synth.env.graph import LinkGraph

    start = time.perf_counter()
    if how == "mapped":
        graph = LinkGraph(folder / "links.parquet", pages)
    else:
        graph = LinkGraph.__new__(LinkGraph)
        graph._load_in_memory(folder / "links.parquet", pages)
    opened = time.perf_counter() - start
    rows = np.random.default_rng(1).integers(0, pages, 10_000).tolist()
    start, cpu, seen = time.perf_counter(), time.process_time(), 0
    for row in rows:
        seen += len(graph.links_from(row)) + len(graph.links_to(row))
    calls, cpu = 2 * len(rows), time.process_time() - cpu
    return {"how": how, "open_s": round(opened, 2), "calls_per_s": round(calls / (time.perf_counter() - start)),
            "calls_per_cpu_s": round(calls / cpu), "links_seen": seen, "peak_rss_mb": peak_mb(), "anon_rss_mb": anon_mb()}


def run(*args: str, per_page: int = 12) -> dict:
    out = subprocess.run([sys.executable, __file__, "--links-per-page", str(per_page), "--measure", *args],
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr[-2000:])
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 2_000_000])
    parser.add_argument("--links-per-page", type=int, default=12)
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        folder, pages, how = Path(args.measure[0]), int(args.measure[1]), args.measure[2]
        if how == "write":  # in its own process too: a child's peak RSS starts at its parent's (fork, exec)
            write_links(folder, pages, int(args.links_per_page))
            print("{}")
        else:
            print(json.dumps(build(folder, pages) if how == "build" else walk(folder, pages, how)))
        return
    for pages in args.sizes:
        with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
            run(tmp, str(pages), "write", per_page=args.links_per_page)
            row = {"pages": pages, "build": run(tmp, str(pages), "build")}
            row["mapped"], row["loaded"] = run(tmp, str(pages), "mapped"), run(tmp, str(pages), "loaded")
            row["rss_ratio_loaded_over_mapped"] = round(row["loaded"]["peak_rss_mb"] / row["mapped"]["peak_rss_mb"], 2)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
