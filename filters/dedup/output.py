"""What the decide stage reads and writes: the sign stage's metadata, the per-task decision files the main
pipeline applies, and the run's entry in the persistent index."""

from __future__ import annotations

import heapq
import os
import shutil
import time
from pathlib import Path

import numpy as np
import orjson
from synth.filters.dedup import index as ix
from synth.filters.dedup.methods import CODES, final_keepers

from synth.sources import task_range

KEYS = ("pos", "verified", "length", "exact", "traj", "answer_hash")
REASONS = {"exact": "duplicate_exact", "minhash": "duplicate_minhash", "semantic": "duplicate_semantic",
           "trajectory": "duplicate_trajectory", "answer_cap": "answer_cap"}
WHY = {"exact": "same normalized text", "minhash": "MinHash cluster of {size}",
       "semantic": "cosine {score:.3f}; cluster of {size}",
       "trajectory": "same question, answer entity, evidence documents and tool calls",
       "answer_cap": "answer entity already has {cap} kept records"}


def meta_file(sign_dir: Path, task: int) -> Path:
    return Path(sign_dir) / "meta" / f"{task:05d}.parquet"


def load_meta(sign_dir: Path, tasks: int, keys=KEYS) -> dict:
    """The `keys` columns of every signed row (ids stay on disk), with each sign task's first row in
    `offsets`. Filled batch by batch into arrays sized from the files' footers: no second copy."""
    import pyarrow.parquet as pq

    # pre_buffer off, one thread: pyarrow's read-ahead held ~20 MB more at 1M rows than the arrays themselves
    files = [pq.ParquetFile(meta_file(sign_dir, t), pre_buffer=False) for t in range(tasks)]
    offsets = np.cumsum([0] + [f.metadata.num_rows for f in files])
    types = {name: files[0].schema_arrow.field(name).type.to_pandas_dtype() for name in keys} if files else {}
    meta = {k: np.zeros(int(offsets[-1]), dtype=types.get(k, np.float64)) for k in keys}
    for task, parquet in enumerate(files):
        at = int(offsets[task])
        for batch in parquet.iter_batches(batch_size=65536, columns=list(keys), use_threads=False):
            for k in keys:
                meta[k][at:at + batch.num_rows] = batch.column(k).to_numpy()
            at += batch.num_rows
    meta["offsets"] = offsets
    return meta


def current_ids(sign_dir: Path, meta: dict, rows: np.ndarray) -> dict[int, str]:
    """ids of the given rows, streamed from the meta files."""
    import pyarrow.parquet as pq

    wanted, found = np.unique(rows), {}
    offsets = meta["offsets"]
    for task in range(len(offsets) - 1):
        mine = wanted[(wanted >= offsets[task]) & (wanted < offsets[task + 1])] - offsets[task]
        if not len(mine):
            continue
        start = 0
        for batch in pq.ParquetFile(meta_file(sign_dir, task)).iter_batches(batch_size=65536, columns=["id"]):
            local = mine[(mine >= start) & (mine < start + batch.num_rows)]
            ids = batch.column(0)
            for row in local:
                found[int(row + offsets[task])] = ids[int(row - start)].as_py()
            start += batch.num_rows
    return found


def _removals(sign_dir: Path, meta: dict, rm, past, cap: int):
    """(positions, render) of every dedup removal in row order, which is input order (sign tasks cover
    consecutive input ranges and keep their records' order); `render(i)` is the JSON line of the i-th.
    Lines are rendered as they are written: held all at once they cost ~4 kB each (orjson's buffer)."""
    rows = np.flatnonzero(rm.method)
    if not len(rows):
        return np.zeros(0, np.int64), None
    keepers, final = rm.keeper[rows], final_keepers(rm, rows)
    labels = current_ids(sign_dir, meta, np.r_[keepers[keepers >= 0], final[final >= 0]])
    labels.update({-(g + 1): name for g, name in past.labels(-(keepers[keepers < 0] + 1)).items()})
    names = {code: name for name, code in CODES.items()}

    def render(at: int) -> bytes:
        row, keeper, kept = rows[at], int(keepers[at]), int(final[at])
        method = names[int(rm.method[row])]
        score = float(rm.score[row]) if rm.score is not None else float("nan")
        why = "cosine {score:.3f}" if (method == "semantic" and keeper < 0) else WHY[method]
        why = why.format(size=int(rm.size[row]), score=score, cap=cap)
        via = "" if kept == keeper else f" via {labels[keeper]}, removed later"
        return orjson.dumps({"pos": int(meta["pos"][row]), "reason": REASONS[method],
                             "detail": f"kept {labels[kept]} ({why}{via})", "step": f"dedup_{method}"})

    return meta["pos"][rows], render


def write_decisions(folder: Path, sign_dir: Path, meta: dict, rm, past, total: int, tasks: int, cap: int) -> None:
    """One JSONL per main task: the sign stage's rejects and the dedup removals in its range, by position."""
    positions, render = _removals(sign_dir, meta, rm, past, cap)
    folder.mkdir(parents=True, exist_ok=True)
    for task in range(tasks):
        span = task_range(total, task, tasks)
        lo, hi = np.searchsorted(positions, [span.start, span.stop])
        mine = ((int(positions[i]), render(i)) for i in range(lo, hi))
        with open(Path(sign_dir) / "rejects" / f"{task:05d}.jsonl", "rb") as fh:
            early = ((orjson.loads(line)["pos"], line.rstrip(b"\n")) for line in fh)
            target = folder / f"{task:05d}.jsonl"
            tmp = target.with_name(f".{target.name}.tmp")
            with open(tmp, "wb") as out:
                out.writelines(line + b"\n" for _, line in heapq.merge(early, mine, key=lambda item: item[0]))
            os.replace(tmp, target)


def publish(sign_dir: Path, meta: dict, rm, opts) -> str:
    """Write this run's kept records' signatures as a new index entry (see filters.dedup.index)."""
    import pyarrow.parquet as pq

    staged = Path(opts.index) / "runs" / f".staging-{opts.run_key}-{os.getpid()}"
    shutil.rmtree(staged, ignore_errors=True)
    (staged / "minhash").mkdir(parents=True)
    alive, offsets = rm.alive, meta["offsets"]
    writer = None
    with open(staged / "emb.f32", "wb") as emb:
        for task in range(len(offsets) - 1):
            keep = alive[offsets[task]:offsets[task + 1]]
            table = pq.read_table(meta_file(sign_dir, task), columns=["id", "exact", "traj", "answer_hash"]).filter(keep)
            writer = writer or pq.ParquetWriter(staged / "meta.parquet", table.schema)
            writer.write_table(table)
            source = Path(sign_dir) / "emb" / f"{task:05d}.f32"
            if "semantic" in opts.methods and source.stat().st_size:
                emb.write(np.fromfile(source, np.float32).reshape(-1, opts.dim)[keep].tobytes())
    writer.close()
    if "semantic" not in opts.methods:
        (staged / "emb.f32").unlink()
    if "minhash" in opts.methods:
        _publish_minhash(Path(sign_dir) / "minhash", staged / "minhash", alive, offsets, opts)
    info = {**opts.run_info, "records": int(alive.sum()), "methods": opts.methods,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    return ix.publish(Path(opts.index), opts.run_key, staged, info, opts.index_settings)


def _publish_minhash(sig_folder: Path, target: Path, alive: np.ndarray, offsets: np.ndarray, opts) -> None:
    from synth.filters.dedup.minhash import MinhashOptions, sig_dtype, write_sorted

    options = MinhashOptions(**opts.index_settings["minhash"])
    dtype = sig_dtype(options)
    new_row = np.cumsum(alive) - 1
    for bucket in range(options.buckets):
        parts = []
        for task in range(len(offsets) - 1):
            path = sig_folder / f"bucket_{bucket:03d}" / f"{task:05d}.minhash.sig"
            if path.is_file():
                records = np.fromfile(path, dtype=dtype)
                rows = offsets[task] + records["doc"].astype(np.int64)
                records = records[alive[rows]]
                records["doc"] = new_row[offsets[task] + records["doc"].astype(np.int64)]
                parts.append(records)
        write_sorted(target / f"bucket_{bucket:03d}.sig", np.concatenate(parts) if parts else np.zeros(0, dtype))
