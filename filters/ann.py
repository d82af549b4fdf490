"""Nearest-neighbour search over unit vectors (inner product = cosine). On CPU, FAISS: an exact flat index
for small sets, IVF or HNSW for large ones. On a CUDA GPU: FAISS's GPU indexes when faiss-gpu is installed
(the `gpu` extra), else exact blockwise search with torch (`TorchFlat`): a GPU does the N^2 dot products of
1M x 384 in seconds, so `auto` stays exact there and no approximation is traded for speed.

`auto` picks by size: flat up to FLAT_MAX vectors (exact, and fast enough there), IVF beyond (trained
k-means cells; deterministic for a given seed, unlike a multi-threaded HNSW build). bench/dedup.py
measures all three on 1M vectors; docs/benchmarks.md has the figures behind these defaults.
"""

from __future__ import annotations

import math

import numpy as np

from synth.errors import UserError

KINDS = ("auto", "flat", "ivf", "hnsw")
FLAT_MAX = 20_000  # below this an exact self-join (N^2 dot products) costs less than training IVF
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128
IVF_TRAIN_ITERATIONS = 10  # k-means rounds; cells only route the search, more rounds buy little recall


def choose(n: int, kind: str = "auto", gpu: bool = False) -> str:
    if kind not in KINDS:
        raise UserError(f"--ann must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind != "auto":
        return kind
    return "flat" if n <= FLAT_MAX or gpu else "ivf"


def gpu_backend() -> str | None:
    """"faiss" (faiss-gpu sees a GPU), "torch" (CUDA without faiss-gpu) or None (CPU). Only called where the
    embedding model already imported torch, so asking costs no import on CPU-only paths."""
    try:
        import faiss

        if hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0:
            return "faiss"  # pragma: no cover - needs faiss-gpu and a GPU
    except ImportError:  # the GPU image may have torch but no faiss at all
        pass
    try:
        import torch
    except ImportError:
        return None
    return "torch" if torch.cuda.is_available() else None


class TorchFlat:
    """Exact inner-product search on the GPU with torch: the vectors live on the card in float16 (768 MB for
    1M x 384); queries are compared with one block of rows at a time and a running top-k is kept, so the
    score matrix never exceeds QUERY_BLOCK x ROW_BLOCK. Same interface as the FAISS indexes used here."""

    ROW_BLOCK = 131072
    QUERY_BLOCK = 16384

    def __init__(self, vectors, batch: int = 65536, device: str = "cuda"):
        import torch

        n, dim = vectors.shape
        self.ntotal, self.dim, self.device = n, dim, device
        self.data = torch.empty((n, dim), dtype=torch.float16, device=device)
        for lo in range(0, n, batch):
            part = np.ascontiguousarray(vectors[np.arange(lo, min(n, lo + batch))], dtype=np.float32)
            self.data[lo:lo + len(part)] = torch.from_numpy(part).to(device).half()

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        k = min(k, self.ntotal)
        sims, ids = [], []
        with torch.no_grad():
            for lo in range(0, len(queries), self.QUERY_BLOCK):
                q = torch.from_numpy(np.ascontiguousarray(queries[lo:lo + self.QUERY_BLOCK], np.float32)).to(self.device).half()
                s, i = self._top(q, k)
                sims.append(s.float().cpu().numpy())
                ids.append(i.cpu().numpy())
        return np.concatenate(sims), np.concatenate(ids)

    def _top(self, q, k: int):
        import torch

        best_s = torch.full((len(q), k), -2.0, dtype=torch.float16, device=self.device)
        best_i = torch.full((len(q), k), -1, dtype=torch.int64, device=self.device)
        for lo in range(0, self.ntotal, self.ROW_BLOCK):
            scores = q @ self.data[lo:lo + self.ROW_BLOCK].T
            s, i = scores.topk(min(k, scores.shape[1]), dim=1)
            merged_s, pick = torch.cat([best_s, s], dim=1).topk(k, dim=1)
            best_i = torch.cat([best_i, i + lo], dim=1).gather(1, pick)
            best_s = merged_s
        return best_s, best_i


def ivf_lists(n: int) -> int:
    """~4·sqrt(n) cells, a power of two, at least 39 training points per cell (FAISS's own minimum)."""
    lists = 2 ** round(math.log2(max(1.0, 4 * math.sqrt(n))))
    return int(max(1, min(lists, n // 39)))


def ivf_probes(lists: int) -> int:
    """1/128 of the cells, at least 16: on 1M real-text-like vectors (4096 cells) 32 probes gave recall@10
    0.957 at 24x the speed of exact search and 64 probes 0.975 at 12x (docs/benchmarks.md, synth filter);
    near-duplicates at cosine >= 0.9 sit closer than a typical 10th neighbour, so they are found more often."""
    return int(min(lists, max(16, lists // 128)))


def build(vectors, kind: str = "auto", seed: int = 0, probes: int | None = None, batch: int = 65536):
    """An index holding `vectors` (row i -> id i). `vectors` is an array or anything with `shape` and
    row indexing by an index array (e.g. filters.dedup.decide.Embeddings, which reads rows from disk):
    vectors are added in batches, so the index is the only full copy in memory."""
    n, dim = vectors.shape
    gpu = gpu_backend() if _torch_loaded() else None
    kind = choose(n, kind, gpu is not None)
    if gpu == "torch" and kind == "flat":
        return TorchFlat(vectors, batch)
    import faiss

    if kind == "flat" or n < 2:
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        lists = ivf_lists(n)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed, index.cp.niter = seed, IVF_TRAIN_ITERATIONS
        sample = np.random.default_rng(seed).choice(n, size=min(n, 40 * lists), replace=False)
        index.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
        index.nprobe = probes or ivf_probes(lists)
    index = _to_gpu(index, kind)
    for lo in range(0, n, batch):
        index.add(np.ascontiguousarray(vectors[np.arange(lo, min(n, lo + batch))], dtype=np.float32))
    return index


def _torch_loaded() -> bool:
    import sys

    return "torch" in sys.modules  # the embedding model is loaded: asking CUDA costs nothing more


def _to_gpu(index, kind: str):
    import faiss

    if kind == "hnsw" or not hasattr(faiss, "get_num_gpus") or faiss.get_num_gpus() < 1:
        return index
    return faiss.index_cpu_to_all_gpus(index)  # pragma: no cover - needs faiss-gpu and a GPU


def search(index, queries, k: int, batch: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, ids) of the k nearest rows for every query row (array or row-indexable, as in
    `build`), in batches so temporary buffers stay small."""
    k = max(1, min(k, index.ntotal))
    n = queries.shape[0]
    sims = np.empty((n, k), dtype=np.float32)
    ids = np.empty((n, k), dtype=np.int64)
    for lo in range(0, n, batch):
        part = np.ascontiguousarray(queries[np.arange(lo, min(n, lo + batch))], dtype=np.float32)
        sims[lo:lo + batch], ids[lo:lo + batch] = index.search(part, k)
    return sims, ids


def describe(index) -> str:
    if isinstance(index, TorchFlat):
        return "flat (torch, GPU)"
    import faiss

    inner = faiss.downcast_index(index) if hasattr(faiss, "downcast_index") else index
    if isinstance(inner, faiss.IndexIVF):
        return f"ivf(lists={inner.nlist}, probes={inner.nprobe})"
    if isinstance(inner, faiss.IndexHNSW):
        return f"hnsw(M={HNSW_M}, efSearch={inner.hnsw.efSearch})"
    return "flat"
