"""Search-environment benchmark: build time, queries/s, ANN recall and speed-up, peak memory.

    python bench/search.py                      # every part, each in its own process (own peak RSS)
    python bench/search.py --part foldoc --corpus CORPUS   # query figures on a corpus already built
    python bench/search.py --part faiss --n 1000000 --hnsw-n 200000

Parts (baselines measured in the same process, ratios printed):
  foldoc  real FOLDOC: ingest + BM25 build time; MiniLM encode docs/s at 256 and 128 word pieces;
          queries/s and self-retrieval MRR@10 for bm25 / dense / hybrid (needs a corpus with a dense
          index: --corpus, else only bm25); tool-cache hit vs miss speed-up.
  bm25    synthetic corpus of --n generated documents (Zipfian pseudo-words, 24-48 words each) through
          the same build_bm25 as `synth corpus build`; queries/s against an exhaustive token scan.
  faiss   --n random unit vectors with cluster structure (384-d, as MiniLM), never encoded: exact
          flat vs IVF (nlist and nprobe chosen by synth's own rule and calibration) and HNSW (on
          --hnsw-n vectors: its insertion is too slow for 1M on 2 cores); recall@10 on held-out
          queries and speed-up over flat search. The vectors mimic MiniLM neighbourhoods measured on
          FOLDOC (see _embedding_like): isotropic clusters would make any ANN look perfect.
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


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


# ---------------------------------------------------------------------------------------------- foldoc
def _queries(corpus, n: int) -> list[tuple[str, str]]:
    """(query, source doc id): the first 8 words of evenly spaced articles' texts, minus the title."""
    docs = [d for d in corpus.iter_docs() if len(d.text.split()) >= 12]
    picks = [docs[i] for i in np.linspace(0, len(docs) - 1, n).astype(int)]
    return [(" ".join(d.text.split()[:8]), d.id) for d in picks]


def _mrr(corpus, queries, mode: str) -> tuple[float, float]:
    rr, start = 0.0, time.perf_counter()
    for query, doc_id in queries:
        ids = [h.id for h in corpus.search(query, 10, mode)]
        rr += 1.0 / (ids.index(doc_id) + 1) if doc_id in ids else 0.0
    seconds = time.perf_counter() - start
    return round(rr / len(queries), 4), round(len(queries) / seconds, 1)


def part_foldoc(args) -> dict:
    from synth.env.build import BuildConfig, build_corpus
    from synth.env.corpus import Corpus
    from synth.env.dense import encode
    from synth.env.tools import ToolBox

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        summary, seconds = timed(build_corpus, "foldoc", Path(tmp) / "c", BuildConfig(dense=False, show_progress=False))
        stages = json.loads((Path(tmp) / "c" / "manifest.json").read_text())["stats"]["stage_seconds"]
        out["build_no_dense_s"] = round(seconds, 2)
        out["stage_s"] = {k: v for k, v in stages.items() if v is not None}
        out["documents"], out["links"] = summary["documents"], summary["links"]
        texts = [d.title + "\n" + d.text[:2000] for d in list(Corpus(Path(tmp) / "c").iter_docs())[:args.encode_n]]
    encode(texts[:64])  # load the model outside the timing
    for length in (256, 128):
        _, s = timed(encode, texts, max_seq_length=length)
        out[f"encode_docs_per_s_seq{length}"] = round(len(texts) / s, 1)
    if not args.corpus:
        return out
    corpus = Corpus(args.corpus)
    card = json.loads((Path(args.corpus) / "manifest.json").read_text())
    out["corpus_stage_s"] = card["stats"]["stage_seconds"]
    out["dense_index"] = corpus.card["indexes"].get("dense", {}).get("kind")
    queries = _queries(corpus, args.queries)
    for mode in ("bm25", "dense", "hybrid") if out["dense_index"] else ("bm25",):
        corpus.search("warm up", 10, mode)
        out[f"{mode}_mrr10"], out[f"{mode}_qps"] = _mrr(corpus, queries, mode)
    box = ToolBox(corpus)
    _, miss = timed(lambda: [box.call("search", {"query": q, "mode": "bm25"}) for q, _ in queries])
    _, hit = timed(lambda: [box.call("search", {"query": q, "mode": "bm25"}) for q, _ in queries])
    out["tool_search_uncached_per_s"] = round(len(queries) / miss, 1)
    out["tool_cache_speedup"] = round(miss / hit, 1)
    return out


# ------------------------------------------------------------------------------------------------ bm25
def _vocabulary(size: int, rng) -> list[str]:
    cons, vows = list("bcdfghjklmnprstvz"), list("aeiou")
    words: set[str] = set()
    while len(words) < size:
        syl = rng.integers(2, 4)
        words.add("".join(cons[rng.integers(17)] + vows[rng.integers(5)] for _ in range(syl)) + "x")
    return sorted(words)


def _synthetic_docs(n: int, seed: int, vocab: list[str], probs: np.ndarray, sink: list | None):
    rng = np.random.default_rng(seed)
    for start in range(0, n, 10_000):
        size = min(10_000, n - start)
        lengths = rng.integers(24, 49, size)
        ids = rng.choice(len(vocab), size=int(lengths.sum()), p=probs).astype(np.int32)
        pos = 0
        for length in lengths:
            doc = ids[pos: pos + length]
            pos += length
            if sink is not None:
                sink.append(doc)
            yield " ".join(vocab[i] for i in doc)


def part_bm25(args) -> dict:
    from synth.env.bm25 import BM25Index, build_bm25, topk_stable

    rng = np.random.default_rng(0)
    vocab = _vocabulary(30_000, rng)
    probs = 1.0 / (np.arange(len(vocab)) + 2.7)
    probs /= probs.sum()
    raw: list[np.ndarray] = []
    with tempfile.TemporaryDirectory() as tmp:
        info, build_s = timed(build_bm25, _synthetic_docs(args.n, 1, vocab, probs, raw), Path(tmp), lambda i: None)
        index = BM25Index(Path(tmp))
        qrng = np.random.default_rng(2)
        queries = [[int(w) for w in raw[i][qrng.choice(len(raw[i]), 3, replace=False)]]
                   for i in qrng.integers(0, len(raw), args.queries)]
        texts = [" ".join(vocab[w] for w in q) for q in queries]
        index.search(texts[0], 10)
        _, bm25_s = timed(lambda: [index.search(t, 10) for t in texts])
    # baseline: no index, an exhaustive vectorized scan counting query-term hits per document
    tokens = np.concatenate(raw)
    owner = np.repeat(np.arange(len(raw)), [len(r) for r in raw])
    scan_n = max(5, args.queries // 20)
    _, scan_s = timed(lambda: [topk_stable(np.bincount(owner[np.isin(tokens, q)], minlength=len(raw)).astype(np.float32), 10)
                               for q in queries[:scan_n]])
    bm25_qps, scan_qps = args.queries / bm25_s, scan_n / scan_s
    return {"documents": args.n, "tokens": len(tokens), "vocabulary": info["vocabulary"],
            "build_s": round(build_s, 1), "build_docs_per_s": round(args.n / build_s),
            "bm25_qps": round(bm25_qps, 1), "scan_baseline_qps": round(scan_qps, 2),
            "speedup_vs_scan": round(bm25_qps / scan_qps, 1)}


# ----------------------------------------------------------------------------------------------- faiss
def _embedding_like(n: int, seed: int, clusters: int = 1024, spread: float = 1.2, decay: float = 0.5,
                    d: int = 384, chunk: int = 100_000) -> np.ndarray:
    """Unit vectors shaped like sentence embeddings of a corpus: topic centres plus anisotropic spread
    (a decaying spectrum in a random basis). The defaults were set against real MiniLM vectors of FOLDOC:
    there a held-out entry's nearest neighbour has cosine 0.66 and its 10th 0.50, and IVF (nlist 64)
    needs nprobe 16 for recall@10 0.96; here (at 100k) 0.63 / 0.55 and nprobe 64 for 0.94. Isotropic
    clusters are far too easy (nprobe 1 already gives 0.99 recall), which would flatter the ANN."""
    centres = np.random.default_rng(7).standard_normal((clusters, d)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    scale = (1.0 + np.arange(d)) ** (-decay)
    scale = (scale / np.sqrt((scale ** 2).sum()) * spread).astype(np.float32)
    basis = np.linalg.qr(np.random.default_rng(8).standard_normal((d, d)))[0].astype(np.float32)
    rng = np.random.default_rng(seed)
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        block = centres[rng.integers(0, clusters, m)] + (rng.standard_normal((m, d), dtype=np.float32) * scale) @ basis
        out[start: start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _ann(kind: str, x: np.ndarray, queries: np.ndarray, exact: np.ndarray, args) -> dict:
    import faiss

    from synth.env import dense

    cfg = dense.DenseConfig(index=kind, target_recall=args.target_recall)
    spec = dense.choose(len(x), cfg)
    threads = faiss.omp_get_max_threads()
    if kind == "hnsw":  # the bench does not need HNSW's single-thread determinism: build on all cores
        index, build_s = timed(lambda: _hnsw_parallel(x, spec))
        spec.update(dense.calibrate(index, [x], len(x), spec, cfg))
    else:
        index, build_s = timed(dense.build_index, [x], len(x), spec, cfg)
    faiss.omp_set_num_threads(threads)
    _, labels = index.search(queries[:10], 10)
    (_, labels), search_s = timed(index.search, queries, 10)
    return {"build_s": round(build_s, 1), "qps": round(len(queries) / search_s, 1),
            "recall_at_10": round(dense.recall_at(labels, exact, 10), 4),
            **{k: v for k, v in spec.items() if k in ("nlist", "nprobe", "M", "ef_search", "calibrated_recall_at_10")}}


def _hnsw_parallel(x: np.ndarray, spec: dict):
    import faiss

    index = faiss.IndexHNSWFlat(x.shape[1], spec["M"], faiss.METRIC_INNER_PRODUCT)
    index.add(x)
    return index


def part_faiss(args) -> dict:
    import faiss

    from synth.env import dense

    x, gen_s = timed(_embedding_like, args.n, 1)
    queries = _embedding_like(args.queries, 2)
    flat = faiss.IndexFlatIP(x.shape[1])
    _, flat_build = timed(flat.add, x)
    (top, exact), flat_s = timed(flat.search, queries, 10)
    out = {"vectors": args.n, "generate_s": round(gen_s, 1),
           "neighbour_cos_top1_top10": [round(float(v), 3) for v in (top[:, 0].mean(), top[:, 9].mean())],
           "flat": {"build_s": round(flat_build, 1), "qps": round(len(queries) / flat_s, 1), "recall_at_10": 1.0}}
    del flat
    out["ivf"] = _ann("ivf", x, queries, exact, args)
    out["ivf"]["speedup_vs_flat"] = round(out["ivf"]["qps"] / out["flat"]["qps"], 1)
    hx = x[: args.hnsw_n]
    del x
    hflat = faiss.IndexFlatIP(hx.shape[1])
    hflat.add(hx)
    (_, hexact), hflat_s = timed(hflat.search, queries, 10)
    del hflat
    out["hnsw"] = {"vectors": len(hx), "flat_qps_same_n": round(len(queries) / hflat_s, 1),
                   **_ann("hnsw", hx, queries, hexact, args)}
    out["hnsw"]["speedup_vs_flat"] = round(out["hnsw"]["qps"] / out["hnsw"]["flat_qps_same_n"], 1)
    out["exact_check"] = dense.recall_at(dense.exact_topk([hx], queries[:50], 10), hexact[:50], 10)
    return out


PARTS = {"foldoc": part_foldoc, "bm25": part_bm25, "faiss": part_faiss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=[*PARTS, "all"], default="all")
    parser.add_argument("--corpus", help="a FOLDOC corpus built with a dense index (for dense/hybrid figures)")
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic corpus size (bm25, faiss)")
    parser.add_argument("--hnsw-n", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--encode-n", type=int, default=512)
    parser.add_argument("--target-recall", type=float, default=0.95)
    args = parser.parse_args()
    if args.part != "all":
        result = {"part": args.part, **PARTS[args.part](args), "peak_rss_mb": peak_rss_mb()}
        print(json.dumps(result))
        return
    for part in PARTS:  # one process per part: each peak RSS is that part's own
        cmd = [sys.executable, __file__, "--part", part, "--n", str(args.n), "--hnsw-n", str(args.hnsw_n),
               "--queries", str(args.queries), "--encode-n", str(args.encode_n),
               "--target-recall", str(args.target_recall)] + (["--corpus", args.corpus] if args.corpus else [])
        done = subprocess.run(cmd, capture_output=True, text=True)
        print(done.stdout.strip().splitlines()[-1] if done.returncode == 0 else
              json.dumps({"part": part, "error": done.stderr.strip().splitlines()[-1:]}), flush=True)


if __name__ == "__main__":
    main()
