"""BM25, dense and hybrid search; FAISS index choice and calibration (random vectors, no encoding)."""

from __future__ import annotations

import numpy as np
import pytest

from synth.env import dense
from synth.env.bm25 import topk_stable
from synth.env.corpus import Corpus, rrf


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_modes_find_the_entity(tiny_corpus, mode):
    hits = Corpus(tiny_corpus).search("interpreted language Guido van Rossum", k=3, mode=mode)
    assert "python" in [h.id for h in hits]
    assert [h.rank for h in hits] == [1, 2, 3][: len(hits)]


def test_dense_finds_meaning_without_shared_words(tiny_corpus):
    hits = Corpus(tiny_corpus).search("waterways of a Dutch city", k=3, mode="dense")
    assert {"canal", "amsterdam"} & {h.id for h in hits}


def test_bm25_unknown_words_return_nothing(tiny_corpus):
    assert Corpus(tiny_corpus).search("zyzzyva qwxv", k=5, mode="bm25") == []


def test_search_is_deterministic(tiny_corpus):
    a = Corpus(tiny_corpus).search("programming language designed by Wirth", 10, "hybrid")
    b = Corpus(tiny_corpus).search("programming language designed by Wirth", 10, "hybrid")
    assert a == b and a[0].id in {"pascal", "oberon", "modula2", "wirth"}


def test_rrf_and_stable_topk():
    fused = rrf([[(1, 9.0), (2, 8.0)], [(2, 0.9), (3, 0.8)]])
    assert [item for item, _ in fused] == [2, 1, 3]
    assert topk_stable(np.array([1.0, 3.0, 3.0, 2.0, 3.0]), 2).tolist() == [1, 2]


def _clustered(n: int, d: int = dense.DIM, clusters: int = 64, seed: int = 0) -> np.ndarray:
    """Unit vectors around shared random centres (`seed` only changes the samples)."""
    centers = np.random.default_rng(1234).standard_normal((clusters, d)).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = centers[rng.integers(0, clusters, n)] + 0.35 * rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_index_choice_threshold():
    cfg = dense.DenseConfig(flat_max=1000)
    assert dense.choose(1000, cfg)["kind"] == "flat"
    spec = dense.choose(1_000_000, cfg)
    assert spec["kind"] == "ivf" and spec["nlist"] == 1024


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_ann_calibration_reaches_target_recall(kind):
    x = _clustered(6000)
    cfg = dense.DenseConfig(index=kind, target_recall=0.9, calibration_queries=100)
    spec = dense.choose(len(x), cfg)
    index = dense.build_index([x], len(x), spec, cfg)
    assert spec["calibrated_recall_at_10"] >= 0.9
    queries = _clustered(200, seed=1)
    exact = dense.exact_topk([x], queries, 10)
    _, approx = index.search(queries, 10)
    assert dense.recall_at(approx, exact, 10) >= 0.85  # held-out queries, same knob


def test_ivf_build_is_deterministic():
    x = _clustered(3000)
    cfg = dense.DenseConfig(index="ivf", calibration_queries=50)
    runs = []
    for _ in range(2):
        spec = dense.choose(len(x), cfg)
        index = dense.build_index([x[:1500], x[1500:]], len(x), spec, cfg)
        runs.append((spec, index.search(x[:20], 10)[1].tolist()))
    assert runs[0] == runs[1]


def test_topk_positive_only_skips_zero_scores():
    scores = np.zeros(1000, dtype=np.float32)
    scores[[5, 700, 900]] = [2.0, 3.0, 2.0]
    assert topk_stable(scores, 10, positive_only=True).tolist() == [700, 5, 900]
    assert topk_stable(scores, 2, positive_only=True).tolist() == [700, 5]
