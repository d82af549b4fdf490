"""Semantic dedup on one GPU (issue 23): records/s of embedding + search + decisions, against the raw encode
rate of the same model on the same card, measured in the same process.

    python bench/semantic_gpu.py --sentences SENTENCES.txt.gz --records 1000000 [--model DIR]

SENTENCES: one short real sentence a line (the 5-30-word FOLDOC sentences bench/dedup.py uses; write them
with `python bench/semantic_gpu.py --write-sentences FILE`). Records are those sentences plus derived
near-copies up to --records (bench/dedup.py's `make_records`). The pipeline runs the functions that
`synth filter --dedup semantic`'s stages call, in their order: the sign stage's `embed.encode` over batches
of --batch-size records, each batch appended to a float32 file; the decide stage's `methods.semantic`
(exact top-k search: faiss-gpu if installed, else `ann.TorchFlat`; connected components; keep-one policy)
over that file, memory-mapped. Not the CLI: the GPU machine has no datatrove. The raw rate is one
`model.encode` call over a --sample of the same records (same batch size), before and after the pipeline.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def raw_rate(model, texts: list[str], batch: int) -> float:
    started = time.perf_counter()
    model.encode(texts, batch_size=batch, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - started)


def pipeline(texts: list[str], model_name: str | None, batch_size: int, folder: Path) -> dict:
    """Sign (encode, append to disk) then decide (search, components, keep-one), timed apart."""
    from synth.filters import embed
    from synth.filters.dedup import methods as mt

    started = time.perf_counter()
    path = folder / "emb.f32"
    with open(path, "wb") as fh:
        for lo in range(0, len(texts), batch_size):
            fh.write(embed.encode(texts[lo:lo + batch_size], model_name).tobytes())
    signed = time.perf_counter()
    vectors = np.memmap(path, dtype=np.float32, mode="r").reshape(len(texts), -1)
    rows = np.arange(len(texts))
    rm = mt.Removals(np.ones(len(texts), dtype=bool))
    prio = mt.priority(np.zeros(len(texts)), np.array([len(t) for t in texts]), rows)
    info = mt.semantic(vectors, rows, rm, prio, 0.9, 16, "auto", 0)
    done = time.perf_counter()
    return {"seconds": done - started, "encode_s": signed - started, "search_decide_s": done - signed,
            "removed": rm.count("semantic"), **info}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=Path)
    parser.add_argument("--write-sentences", type=Path)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1024, help="records per encode call (synth filter's default)")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    if args.write_sentences:
        from bench.dedup import foldoc_sentences

        with gzip.open(args.write_sentences, "wt") as fh:
            fh.writelines(s + "\n" for s in foldoc_sentences())
        return
    import torch
    from bench.dedup import make_records
    from synth.filters import ann, embed

    sentences = gzip.open(args.sentences, "rt").read().splitlines()
    texts = [r["text"] for r in make_records(sentences, args.records)]
    model = embed.load(args.model)
    batch = embed.encode_batch(model)
    sample = random.Random(1).sample(texts, min(args.sample, len(texts)))
    raw_rate(model, sample[:2048], batch)  # warm-up (kernels, allocator)
    before = raw_rate(model, sample, batch)
    with tempfile.TemporaryDirectory() as tmp:
        run = pipeline(texts, args.model, args.batch_size, Path(tmp))
    after = raw_rate(model, sample, batch)
    raw = (before + after) / 2
    rate = len(texts) / run["seconds"]
    card = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    print(f"device {card}; search backend {ann.gpu_backend()}; {len(texts)} records; encode batch {batch}")
    print(f"raw model.encode     {before:9.1f} rec/s before, {after:.1f} after (mean {raw:.1f})")
    print(f"embed+search+decide  {rate:9.1f} rec/s ({run['seconds']:.1f} s: encode {run['encode_s']:.1f} s, "
          f"search + components + keep-one {run['search_decide_s']:.1f} s; {run['ann']}; removed {run['removed']})")
    print(f"ratio                {rate / raw:9.3f}  (goal >= 0.8)")
    print(json.dumps({"device": card, "records": len(texts), "raw_rate": raw, "rate": rate, "ratio": rate / raw, **run}))


if __name__ == "__main__":
    main()
