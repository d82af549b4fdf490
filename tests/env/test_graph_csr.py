"""The on-disk link graph (issue 29): the external counting sort groups link ids like a stable argsort, in
chunks; distinct-neighbour counts match np.unique over all pairs; the memory-mapped `LinkGraph` gives the
links the in-memory one gives."""

from __future__ import annotations

import numpy as np
import pytest

from synth.env import csr
from synth.env.build import BuildConfig, build_corpus
from synth.env.graph import LinkGraph


@pytest.mark.parametrize("chunk", [7, 1000, 1 << 22])
def test_counting_sort_in_chunks_is_a_stable_argsort(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(csr, "CHUNK", chunk)
    keys = np.random.default_rng(3).integers(0, 50, size=997).astype(np.int32)
    keys[:10] = 49  # a run across the first chunk boundary
    csr.counting_sort(keys, 60, tmp_path, "out")
    ptr, ids = np.load(tmp_path / "out_ptr.npy"), np.load(tmp_path / "out_ids.npy")
    order = np.argsort(keys, kind="stable")
    assert ids.tolist() == order.tolist()
    assert ptr.tolist() == np.searchsorted(keys[order], np.arange(61)).tolist()


@pytest.mark.parametrize("chunk", [5, 1 << 22])
def test_distinct_counts_match_unique_pairs(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(csr, "CHUNK", chunk)
    rng = np.random.default_rng(4)
    src, dst = rng.integers(0, 30, 400).astype(np.int32), rng.integers(0, 30, 400).astype(np.int32)
    csr.counting_sort(src, 30, tmp_path, "out")
    got = csr.distinct_counts(np.load(tmp_path / "out_ptr.npy"), np.load(tmp_path / "out_ids.npy"), dst, 30)
    pairs = np.unique(src.astype(np.int64) * 30 + dst)
    assert got.tolist() == np.bincount(pairs // 30, minlength=30).tolist()


def test_row_spill_round_trips_in_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(csr, "CHUNK", 3)
    spill = csr.RowSpill(tmp_path / "rows.i32")
    for value in range(10):
        spill.add(value * 7)
    assert spill.close().tolist() == [v * 7 for v in range(10)]


def test_memory_mapped_graph_equals_the_in_memory_one(tmp_path):
    from tests.env.helpers import write_jsonl

    out = tmp_path / "corpus"
    build_corpus(str(write_jsonl(tmp_path / "docs.jsonl")), out, BuildConfig(bm25=False, dense=False,
                                                                             show_progress=False))
    rows = len(__import__("pyarrow.parquet", fromlist=["x"]).read_table(out / "data" / "documents.parquet"))
    mapped = LinkGraph(out / "graph" / "links.parquet", rows)
    assert isinstance(mapped._out_order, np.memmap)
    loaded = LinkGraph.__new__(LinkGraph)
    loaded._load_in_memory(out / "graph" / "links.parquet", rows)
    assert len(mapped) == len(loaded) > 0
    for row in range(rows):
        assert mapped.links_from(row) == loaded.links_from(row)
        assert mapped.links_to(row) == loaded.links_to(row)
        assert mapped.out_neighbors(row) == loaded.out_neighbors(row)
