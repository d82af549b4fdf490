"""The corpus-scale MinHash stages agree with the reference they replace: datatrove's per-record signatures,
brute-force band matching, and scipy's connected components."""

from __future__ import annotations

import random

import numpy as np
import pytest
import xxhash
from datatrove.data import Document
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from synth.filters.dedup import components, lsh
from synth.filters.dedup.minhash import (
    INDEX_FILE_BASE,
    MinhashOptions,
    MinhashSignature,
    read_clusters,
    sig_dtype,
)


def _texts(seed: int = 0, count: int = 300) -> list[str]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(60)]
    base = [" ".join(rng.choices(words, k=rng.randint(5, 40))) for _ in range(count // 3)]
    edited = [" ".join(t.split()[: max(3, len(t.split()) - 2)]) for t in base]  # near copies
    return base + edited + base[: count // 3 - 2] + ["", "!!"]  # exact copies, one empty, one without words


def test_batched_signatures_equal_datatrove_per_record(tmp_path, monkeypatch):
    monkeypatch.setattr(lsh, "SHINGLES_PER_BATCH", 64)  # batches split inside and across records
    options = MinhashOptions()
    texts = [*_texts(), " ".join(f"x{i}" for i in range(500))]  # one record longer than a batch
    signer = lsh.BatchedSignature(str(tmp_path), options)
    list(signer.run(iter(Document(text=t, id=str(i)) for i, t in enumerate(texts)), rank=3))
    reference = MinhashSignature(str(tmp_path / "ref"), options)
    records = np.fromfile(tmp_path / "bucket_002" / "00003.minhash.sig", dtype=sig_dtype(options))
    whole = np.fromfile(lsh.full_path(tmp_path, 3), dtype=np.uint16).reshape(len(texts), -1)
    by_doc = {int(r["doc"]): r for r in records}
    for doc, text in enumerate(texts):
        shingles = reference.get_shingles(text)
        if not shingles.size:
            assert doc not in by_doc and not whole[doc].any()
            continue
        bands = reference.get_signature(shingles)
        assert [int(by_doc[doc][f"h{j}"]) for j in range(options.hashes)] == bands[2]
        assert whole[doc].tolist() == [h & 0xFFFF for band in bands for h in band]


def test_shingles_skip_the_diacritics_pass_only_where_it_changes_nothing(tmp_path):
    from datatrove.utils.text import simplify_text

    signer = MinhashSignature(str(tmp_path), MinhashOptions())
    for text in ["Café naïve résumé, Ærø — “quoted”", "Tuesday 12 March: 3.5% OK!", "plain words only here"]:
        slow = signer.word_tokenizer.word_tokenize(simplify_text(text, signer.config.norm_config))
        grams = [" ".join(slow[i:i + 3]) for i in range(len(slow) - 2)]
        assert signer.get_shingles(text).ravel().tolist() == [xxhash.xxh64_intdigest(g.encode()) for g in grams]


def _write_bucket(folder, file_id: int, keys: list[tuple], options: MinhashOptions, whole: bool = True) -> None:
    records = np.zeros(len(keys), sig_dtype(options))
    for doc, key in enumerate(keys):
        for j in range(options.hashes):
            records[doc][f"h{j}"] = key[j]
        records[doc]["doc"] = doc
    (folder / "bucket_000").mkdir(parents=True, exist_ok=True)
    records.tofile(folder / "bucket_000" / f"{file_id:05d}.minhash.sig")
    if whole:  # all agree: every pair passes the check
        np.full((len(keys), options.buckets * options.hashes), 7, np.uint16).tofile(lsh.full_path(folder, file_id))


@pytest.mark.parametrize("shard_rows", [4, 1 << 16])
def test_band_matches_link_exactly_the_records_with_equal_bands(tmp_path, monkeypatch, shard_rows):
    monkeypatch.setattr(lsh, "SHARD_ROWS", shard_rows)  # 4: many shards on disk, each sorted alone
    monkeypatch.setattr(lsh, "CHUNK_ROWS", 7)
    options = MinhashOptions()
    rng = np.random.default_rng(0)
    (tmp_path / "full").mkdir()
    files = {0: [tuple(rng.integers(0, 5, options.hashes)) for _ in range(40)],
             1: [tuple(rng.integers(0, 5, options.hashes)) for _ in range(25)]}
    for file_id, keys in files.items():
        _write_bucket(tmp_path, file_id, keys, options)
    list(lsh.BandMatches(str(tmp_path), str(tmp_path / "dups"), options).run(rank=0))
    pairs = np.fromfile(tmp_path / "dups" / "00000_00.dups", dtype="<u4").reshape(-1, 4)
    node = {(f, d): i for i, (f, d) in enumerate((f, d) for f in files for d in range(len(files[f])))}
    found = {frozenset({node[(a, b)], node[(c, d)]}) for a, b, c, d in pairs.tolist()}
    labels = _labels(len(node), [tuple(p) for p in found])
    key_of = [files[f][d] for f, d in node]
    for i in range(len(node)):
        for j in range(len(node)):
            assert (labels[i] == labels[j]) == (key_of[i] == key_of[j])
    assert len(pairs) == len(node) - len(set(key_of))  # a chain per key: no pair twice, none missing


def test_band_matches_drop_pairs_whose_whole_signatures_disagree(tmp_path):
    """Three records of a task share a band, and so does a past run's record (kept unchecked: the index
    keeps no whole signatures); record 2's whole signature disagrees with record 1's."""
    options = MinhashOptions()
    (tmp_path / "full").mkdir()
    _write_bucket(tmp_path, 0, [(1,) * options.hashes] * 3, options)
    _write_bucket(tmp_path, INDEX_FILE_BASE, [(1,) * options.hashes], options, whole=False)
    width = options.buckets * options.hashes
    whole = np.zeros((3, width), np.uint16)
    whole[2, : width * 7 // 10] = 9  # record 2 agrees with the others on 30% of its hashes: below J - 0.1
    whole.tofile(lsh.full_path(tmp_path, 0))
    list(lsh.BandMatches(str(tmp_path), str(tmp_path / "dups"), options).run(rank=0))
    pairs = np.fromfile(tmp_path / "dups" / "00000_00.dups", dtype="<u4").reshape(-1, 4)
    assert pairs.tolist() == [[0, 0, 0, 1], [0, 2, INDEX_FILE_BASE, 0]]


def _labels(n: int, pairs: list[tuple[int, int]]) -> np.ndarray:
    a = np.array([p[0] for p in pairs] or [0])
    b = np.array([p[1] for p in pairs] or [0])
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def test_array_cluster_equals_connected_components(tmp_path, monkeypatch):
    monkeypatch.setattr(components, "PAIRS_PER_CHUNK", 50)  # unions across chunks
    rng = np.random.default_rng(1)
    sizes = {0: 300, 2: 150, 100_001: 40}  # two tasks and an index run
    first = dict(zip(sizes, np.cumsum([0, *sizes.values()])))
    n = sum(sizes.values())
    pairs, dups = [], tmp_path / "dups"
    dups.mkdir()
    for band in range(3):
        rows = []
        for _ in range(120):
            fa, fb = rng.choice(list(sizes), 2)
            da, db = rng.integers(0, sizes[fa]), rng.integers(0, sizes[fb])
            rows.append((fa, da, fb, db))
            pairs.append((first[fa] + da, first[fb] + db))
        np.array(rows, dtype="<u4").tofile(dups / f"{band:05d}_00.dups")
    list(components.ArrayCluster(str(dups), str(tmp_path / "clusters")).run())
    expected = _labels(n, pairs)
    got = {}
    for file_id, docs, cluster in read_clusters(tmp_path / "clusters"):
        for d, c in zip(docs.tolist(), cluster.tolist()):
            got[first[file_id] + d] = c
    sizes_of = np.bincount(expected)
    assert set(got) == {i for i in range(n) if sizes_of[expected[i]] > 1}  # every clustered record, no single
    for i, cluster_i in got.items():
        for j, cluster_j in got.items():
            assert (cluster_i == cluster_j) == (expected[i] == expected[j])
