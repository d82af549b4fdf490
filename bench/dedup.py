"""`synth filter` dedup speed and memory on 2 CPU cores, each figure against a baseline of the same run.

    python bench/dedup.py                      # full: 100k records end to end, 1M vectors for ANN
    python bench/dedup.py --records 5000 --vectors 50000 --queries 200      # smoke run

1. End to end. 100k short real-text records: the 37.5k distinct 5-30-word sentences of FOLDOC (Debian
   dict-foldoc) plus derived near-copies (prefixes, synonym rewrites) up to --records. `synth filter
   --dedup semantic` (default quality filters) runs in a child process; its records/s is divided by the
   raw sentence-transformers encode rate (`model.encode`, batch 128, on a 10k sample of the same records,
   measured in this process before and after the run; the mean is used). Other jobs share the 2 cores, so
   the same ratio is also printed in CPU time (records per CPU-second), which contention moves less.
2. MinHash and exact dedup records/s on the same records, against `synth import` (read + write only).
3. Streaming: records/s and peak RSS of `--dedup exact,minhash` against `synth import` of the same file at
   each of --stream-sizes (the bench records, then "(part k)" copies of them: near-duplicates).
4. ANN on --vectors embeddings. Encoding 1M real texts is out of reach on 2 cores, so: the embeddings of
   the real FOLDOC sentences come from run 1 (its sign stage files); 1,000 of them are held out as
   queries; the rest anchor a synthetic set that keeps their structure: each synthetic vector lies on an
   edge between a real vector and one of its 10 nearest real neighbours (SMOTE-style interpolation,
   alpha ~ U(0, 0.5)) plus isotropic noise at 1/4 of the median nearest-neighbour distance, renormalized.
   The real vectors are part of the set. Exact flat search gives the ground truth; IVF and HNSW are timed
   on the same queries (recall@10 against it). The PCA spectrum of real vs synthetic is printed as a check.
Peak RSS: children via getrusage(RUSAGE_CHILDREN) in a wrapper process per run; this process via
ru_maxrss (ANN part).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WRAP = ("import json,resource,subprocess,sys,time;t=time.perf_counter();r=subprocess.run(sys.argv[1:],"
        "capture_output=True,text=True);u=resource.getrusage(resource.RUSAGE_CHILDREN);print(json.dumps({"
        "'rc':r.returncode,'seconds':time.perf_counter()-t,'cpu':u.ru_utime+u.ru_stime,'rss_mb':u.ru_maxrss/1024,"
        "'out':r.stdout[-2000:],'err':r.stderr[-2000:]}))")


def measured(cmd: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", WRAP, *cmd], capture_output=True, text=True, cwd=REPO, check=False)
    result = json.loads(done.stdout)
    if result["rc"]:
        raise SystemExit(f"{' '.join(cmd)} failed: {result['err']}")
    return result


def synth(*args: str) -> list[str]:
    return [sys.executable, "-m", "synth.cli", *args, "--json"]


def foldoc_sentences() -> list[str]:
    from synth.env.sources.foldoc import iter_foldoc

    found: dict[str, None] = {}
    for doc in iter_foldoc():
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(doc.text.split())):
            if 5 <= len(sentence.split()) <= 30:
                found.setdefault(sentence)
    return list(found)


def make_records(sentences: list[str], total: int, seed: int = 0) -> list[dict]:
    """Real sentences first (positions 0..len-1), then derived near-copies up to `total`."""
    from bench.dedup_quality import SYNONYMS

    rng = random.Random(seed)
    texts = sentences[:total]
    while len(texts) < total:
        words = rng.choice(sentences).split()
        if rng.random() < 0.5:
            words = words[: max(3, int(len(words) * rng.uniform(0.6, 0.9)))]
        else:
            words = [SYNONYMS.get(w.lower(), w) for w in words]
        texts.append(" ".join(words))
    return [{"id": f"r{i}", "text": t} for i, t in enumerate(texts)]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def encode_rate(texts: list[str]) -> tuple[float, float]:
    """(records per wall second, records per CPU second) of plain `model.encode` in this process."""
    from synth.filters import embed

    model = embed.load()
    model.encode(texts[:256], batch_size=128)  # warm-up
    started, cpu = time.perf_counter(), _cpu()
    model.encode(texts, batch_size=128, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - started), len(texts) / (_cpu() - cpu)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def end_to_end(records: list[dict], folder: Path, sample: int) -> dict:
    src = write_jsonl(folder / "records.jsonl", records)
    texts = [r["text"] for r in random.Random(1).sample(records, min(sample, len(records)))]
    before = encode_rate(texts)
    run = measured(synth("filter", str(src), "--out", str(folder / "e2e"), "--dedup", "semantic"))
    after = encode_rate(texts)
    raw, raw_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    rate, rate_cpu = len(records) / run["seconds"], len(records) / run["cpu"]
    summary = json.loads(run["out"].strip().splitlines()[-1])
    print(f"\n## end to end: {len(records)} records, synth filter --dedup semantic (default filters)")
    print(f"raw encode rate      {before[0]:8.1f} rec/s before, {after[0]:.1f} after (mean {raw:.1f}); "
          f"per CPU-second {raw_cpu:.1f}")
    print(f"synth filter         {rate:8.1f} rec/s  ({run['seconds']:.1f} s, peak RSS {run['rss_mb']:.0f} MB); "
          f"per CPU-second {rate_cpu:.1f}")
    print(f"ratio                {rate / raw:8.3f} wall, {rate_cpu / raw_cpu:.3f} CPU time  (goal >= 0.8)")
    print(f"counts               {summary['counts']}")
    return {"raw_rate": raw, "rate": rate, "ratio": rate / raw, "cpu_ratio": rate_cpu / raw_cpu,
            "seconds": run["seconds"], "rss_mb": run["rss_mb"], "counts": summary["counts"]}


def minhash_speed(records: list[dict], folder: Path) -> dict:
    src = folder / "records.jsonl"
    base = measured(synth("import", str(src), "--out", str(folder / "import")))
    found = {"import": len(records) / base["seconds"]}
    print(f"\n## dedup without embeddings: {len(records)} records (--filters none)")
    print(f"synth import (read + write)  {found['import']:8.1f} rec/s  peak RSS {base['rss_mb']:.0f} MB")
    for method in ("exact", "minhash"):
        run = measured(synth("filter", str(src), "--out", str(folder / method), "--dedup", method, "--filters", "none"))
        found[method] = len(records) / run["seconds"]
        counts = json.loads(run["out"].strip().splitlines()[-1])["counts"]
        print(f"synth filter --dedup {method:8s} {found[method]:8.1f} rec/s  ({found[method] / found['import']:.2f}x "
              f"import; peak RSS {run['rss_mb']:.0f} MB; removed {counts['rejected']})")
    return found


def corpus(records: list[dict], total: int) -> list[dict]:
    """`total` records: the bench records, then copies of them with a "(part k)" suffix (near-duplicates
    of their originals: a corpus that keeps growing in both new text and repeats)."""
    return [{"id": f"{r['id']}-{k}", "text": f"{r['text']} (part {k})" if k else r["text"]}
            for k in range(-(-total // len(records))) for r in records][:total]


def streaming(records: list[dict], folder: Path, sizes: list[int]) -> dict:
    """Peak RSS and records/s of `--dedup exact,minhash --filters none` against `synth import` of the same
    file, import first, at each size (both in child processes of this one, one size after the other)."""
    print("\n## streaming: --dedup exact,minhash --filters none against synth import, by input size")
    print("| records | import rec/s | import peak RSS | filter rec/s | ratio to import | filter peak RSS | removed |")
    print("|---|---|---|---|---|---|---|", flush=True)
    found = {}
    for size in sizes:
        src = write_jsonl(folder / f"n{size}.jsonl", corpus(records, size))
        base = measured(synth("import", str(src), "--out", str(folder / f"imp{size}")))
        run = measured(synth("filter", str(src), "--out", str(folder / f"mem{size}"), "--dedup", "exact,minhash",
                             "--filters", "none"))
        removed = json.loads(run["out"].strip().splitlines()[-1])["counts"]["rejected"]
        found[size] = {"import": size / base["seconds"], "import_rss_mb": base["rss_mb"],
                       "filter": size / run["seconds"], "rss_mb": run["rss_mb"]}
        row = found[size]
        print(f"| {size:,} | {row['import']:,.0f} | {base['rss_mb']:.0f} MB | {row['filter']:,.0f} | "
              f"{row['filter'] / row['import']:.2f}x | {run['rss_mb']:.0f} MB | {removed:,} |", flush=True)
        src.unlink()
        for out in (f"imp{size}", f"mem{size}"):
            shutil.rmtree(folder / out, ignore_errors=True)
    low, high = found[min(found)]["rss_mb"], found[max(found)]["rss_mb"]
    print(f"peak RSS at {max(found):,} / at {min(found):,} records: {high / low:.3f} (goal within 10%)")
    return found


def real_embeddings(folder: Path, originals: int) -> np.ndarray:
    """Run 1's embeddings of the real sentences (positions < originals), read from its sign stage
    (`folder`/e2e, or any `synth filter --dedup semantic` output given as --embeddings-from)."""
    import pyarrow.parquet as pq

    run = folder if (folder / ".synth").is_dir() else folder / "e2e"
    sign = run / ".synth" / "stages" / "sign"
    vectors = []
    for meta in sorted((sign / "meta").glob("*.parquet")):
        pos = pq.read_table(meta, columns=["pos"])["pos"].to_numpy()
        emb = np.fromfile(sign / "emb" / f"{meta.stem}.f32", np.float32).reshape(-1, 384)
        vectors.append(emb[pos < originals])
    return np.concatenate(vectors)


def synthesize(real: np.ndarray, total: int, seed: int = 0) -> np.ndarray:
    import faiss

    rng = np.random.default_rng(seed)
    flat = faiss.IndexFlatIP(real.shape[1])
    flat.add(real)
    sims, knn = flat.search(real, 11)
    scale = 0.25 * float(np.median(np.sqrt(np.maximum(0, 2 - 2 * sims[:, 1])))) / np.sqrt(real.shape[1])
    out = np.empty((total, real.shape[1]), np.float32)
    out[: len(real)] = real
    for lo in range(len(real), total, 200_000):
        n = min(200_000, total - lo)
        anchor = rng.integers(0, len(real), n)
        other = knn[anchor, rng.integers(1, 11, n)]
        alpha = rng.uniform(0, 0.5, (n, 1)).astype(np.float32)
        v = real[anchor] + alpha * (real[other] - real[anchor]) + scale * rng.standard_normal((n, real.shape[1]), np.float32)
        out[lo:lo + n] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def spectrum(x: np.ndarray) -> str:
    sample = x[np.random.default_rng(0).choice(len(x), min(len(x), 20000), replace=False)]
    values = np.linalg.svd(sample - sample.mean(0), compute_uv=False) ** 2
    share = np.cumsum(values) / values.sum()
    return f"variance in top 10/50/100 components: {share[9]:.2f}/{share[49]:.2f}/{share[99]:.2f}"


def timed_search(index, queries: np.ndarray, k: int = 10) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    _, ids = index.search(queries, k)
    return time.perf_counter() - started, ids


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


class _Rows(list):
    """Table rows, printed as they are measured."""

    def __init__(self, flat_s: float, queries: int):
        super().__init__()
        self.flat_s, self.queries = flat_s, queries
        print("| index | search param | build s | s per 1000 queries | speed-up vs flat | recall@10 |\n"
              "|---|---|---|---|---|---|", flush=True)

    def append(self, row) -> None:
        name, param, build, seconds, rec = row
        print(f"| {name} | {param} | {build:.1f} | {seconds * 1000 / self.queries:.3f} | "
              f"{self.flat_s / seconds:.1f}x | {rec:.3f} |", flush=True)
        super().append(row)


def ann(folder: Path, originals: int, vectors: int, queries: int, kinds=("ivf", "hnsw")) -> dict:
    import faiss

    real = real_embeddings(folder, originals)
    rng = np.random.default_rng(7)
    order = rng.permutation(len(real))
    query, base = real[order[:queries]], real[order[queries:]]
    data = synthesize(base, vectors)
    print(f"\n## ANN: {len(data)} x {data.shape[1]} vectors ({len(base)} real FOLDOC sentence embeddings + "
          f"{len(data) - len(base)} synthetic), {len(query)} held-out real queries, recall@10 vs exact")
    print(f"real      {spectrum(base)}\nsynthetic {spectrum(data[len(base):])}")
    flat = faiss.IndexFlatIP(data.shape[1])
    flat.add(data)
    flat_s, truth = timed_search(flat, query)
    rows = _Rows(flat_s, len(query))
    rows.append(("flat (exact)", "-", 0.0, flat_s, 1.0))
    del flat
    if "ivf" in kinds:
        _ivf(data, query, truth, rows)
    if "hnsw" in kinds:
        _hnsw(data, query, truth, rows)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (vectors {data.nbytes / 2**20:.0f} MB + indexes): {rss:.0f} MB")
    return {"rows": list(rows), "rss_mb": rss}


def _ivf(data: np.ndarray, query: np.ndarray, truth: np.ndarray, rows: list) -> None:
    from synth.filters import ann as synth_ann

    lists = synth_ann.ivf_lists(len(data))
    started = time.perf_counter()
    ivf = synth_ann.build(data, "ivf", seed=0)
    build = time.perf_counter() - started
    for probes in (8, 16, 32, 64):
        ivf.nprobe = probes
        seconds, ids = timed_search(ivf, query)
        rows.append((f"IVF{lists},Flat", f"nprobe={probes}", build, seconds, recall(ids, truth)))
    del ivf


def _hnsw(data: np.ndarray, query: np.ndarray, truth: np.ndarray, rows: list) -> None:
    from synth.filters import ann as synth_ann

    started = time.perf_counter()
    hnsw = synth_ann.build(data, "hnsw")
    build = time.perf_counter() - started
    for ef in (16, 32, 64, 128):
        hnsw.hnsw.efSearch = ef
        seconds, ids = timed_search(hnsw, query)
        rows.append((f"HNSW{synth_ann.HNSW_M},Flat", f"efSearch={ef}", build, seconds, recall(ids, truth)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=10_000, help="records for the raw encode rate")
    parser.add_argument("--parts", default="e2e,minhash,streaming,ann")
    parser.add_argument("--stream-sizes", default="150000,1000000", help="streaming part: input sizes (records)")
    parser.add_argument("--indexes", default="ivf,hnsw", help="ANN indexes to time against flat")
    parser.add_argument("--embeddings-from", type=Path, default=None,
                        help="ANN only: real embeddings from this earlier `synth filter --dedup semantic` output "
                             "(of the same --records) instead of an e2e run")
    args = parser.parse_args()
    parts = args.parts.split(",")
    import torch

    print(f"torch threads {torch.get_num_threads()}; cores {len(__import__('os').sched_getaffinity(0))}")
    sentences = foldoc_sentences()
    records = make_records(sentences, args.records)
    originals = min(len(sentences), args.records)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "e2e" in parts or ("ann" in parts and not args.embeddings_from):
            results["e2e"] = end_to_end(records, folder, args.sample)
        else:
            write_jsonl(folder / "records.jsonl", records)
        if "minhash" in parts:
            results["minhash"] = minhash_speed(records, folder)
        if "streaming" in parts:
            results["streaming"] = streaming(records, folder, [int(n) for n in args.stream_sizes.split(",")])
        if "ann" in parts:
            results["ann"] = ann(args.embeddings_from or folder, originals, args.vectors, args.queries,
                                 args.indexes.split(","))
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
