"""Stage `sign`: one pass over the inputs that computes every record's dedup signatures.

Per task RRRRR it writes, under OUT/.synth/stages/sign/:
  meta/RRRRR.parquet   pos, id, keep-policy keys (verified, length), exact hash, trajectory key, answer entity
  emb/RRRRR.f32        unit embeddings, one row per meta row (semantic dedup)
  rejects/RRRRR.jsonl  records the quality filters and decontamination in front of this step dropped
  minhash/             datatrove MinHash signatures (written by the MinHash step this one feeds)
Rows are appended batch by batch (memory stays flat) and files are renamed into place only when the task
ends, so a task that dies leaves nothing half-written that a re-run would trust.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
from datatrove.pipeline.base import PipelineStep
from synth.filters import text as tx
from synth.filters.decontam import EMBEDDING_KEY
from synth.filters.dedup import keys

from synth import records, state

META_COLUMNS = ("pos", "id", "verified", "length", "exact", "traj", "answer_hash", "answer")


def record_label(record: dict, pos: int) -> str:
    """How details cite a record: as the rejects' `id` column does (the id, else the input position)."""
    return str(record.get("id", pos))


class _RankFiles:
    """The files one task writes, under temporary names until `commit`."""

    def __init__(self, folder: Path, rank: int, with_embeddings: bool):
        self.final = {"meta": folder / "meta" / f"{rank:05d}.parquet", "rejects": folder / "rejects" / f"{rank:05d}.jsonl"}
        if with_embeddings:
            self.final["emb"] = folder / "emb" / f"{rank:05d}.f32"
        for path in self.final.values():
            path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = {k: p.with_name(f".{p.name}.tmp") for k, p in self.final.items()}
        # open for the whole task, appended batch by batch, closed in commit()
        self.rejects = open(self.tmp["rejects"], "wb")  # noqa: SIM115
        self.emb = open(self.tmp["emb"], "wb") if with_embeddings else None  # noqa: SIM115
        self.meta = None

    def add_meta(self, rows: dict) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = _types()
        table = pa.table({k: pa.array(rows[k], type=types[k]()) for k in META_COLUMNS})
        if self.meta is None:
            self.meta = pq.ParquetWriter(self.tmp["meta"], table.schema, compression="zstd")
        self.meta.write_table(table)

    def commit(self) -> None:
        self.rejects.close()
        if self.emb:
            self.emb.close()
        if self.meta is None:
            self.add_meta({k: [] for k in META_COLUMNS})
        self.meta.close()
        for key, tmp in self.tmp.items():
            os.replace(tmp, self.final[key])


def _types():
    import pyarrow as pa

    return {"pos": pa.int64, "id": pa.string, "verified": pa.float64, "length": pa.int64, "exact": pa.uint64,
            "traj": pa.uint64, "answer_hash": pa.uint64, "answer": pa.string}


class SignStep(PipelineStep):
    """Writes signatures of live records; forwards them (text = dedup view) when MinHash follows."""

    name = "dedup signatures"
    type = "🫂 - DEDUP"

    def __init__(self, folder: str | Path, kind: str, methods: list[str], model: str | None = None,
                 batch_size: int = 256, forward: bool = False):
        super().__init__()
        self.folder, self.kind, self.methods = Path(folder), kind, list(methods)
        self.model, self.batch_size, self.forward = model, batch_size, forward

    def run(self, data, rank: int = 0, world_size: int = 1):
        files = _RankFiles(self.folder, rank, "semantic" in self.methods)
        batch, seen, shown = [], 0, 0.0
        for doc in data:
            seen += 1
            rejected = records.reject_of(doc)
            if rejected:
                self._write_reject(files, doc, rejected)
            else:
                batch.append(doc)
            if len(batch) >= self.batch_size:
                yield from self._flush(files, batch)
                batch = []
            if time.monotonic() - shown > 1.0:
                state.write_progress(self.folder / "progress", rank, seen)
                shown = time.monotonic()
        yield from self._flush(files, batch)
        files.commit()
        state.write_progress(self.folder / "progress", rank, seen)

    def _write_reject(self, files: _RankFiles, doc, rejected: dict) -> None:
        meta = doc.metadata[records.KEY]
        pos = int(meta["key"])
        row = {"pos": pos, "id": record_label(meta["record"], pos), **rejected,
               "raw": meta.get("raw") if isinstance(meta.get("raw"), str) else None}
        files.rejects.write(orjson.dumps(row) + b"\n")

    def _flush(self, files: _RankFiles, docs: list):
        if not docs:
            return
        with self.track_time(unit="batch"):
            rows = {k: [] for k in META_COLUMNS}
            texts = []
            for doc in docs:
                record, pos = records.record_of(doc), int(doc.metadata[records.KEY]["key"])
                text = tx.dedup_text(record, self.kind)
                texts.append(text)
                self._add_row(rows, record, pos, text)
                doc.text = text  # what the MinHash step shingles
            files.add_meta(rows)
            if files.emb is not None:
                files.emb.write(self._embeddings(docs, texts).tobytes())
            self.stat_update("signed", value=len(docs))
        if self.forward:
            yield from docs

    def _add_row(self, rows: dict, record: dict, pos: int, text: str) -> None:
        traj, answer = keys.trajectory_key(record, self.kind) if "trajectory" in self.methods else (0, "")
        rows["pos"].append(pos)
        rows["id"].append(record_label(record, pos))
        rows["verified"].append(tx.verified_score(record, self.kind))
        rows["length"].append(len(text))
        rows["exact"].append(keys.exact_hash(text) if "exact" in self.methods else 0)
        rows["traj"].append(traj)
        rows["answer_hash"].append(keys.hash64(answer) if answer else 0)
        rows["answer"].append(answer)

    def _embeddings(self, docs: list, texts: list[str]):
        """Encode, reusing the decontamination step's vectors where it embedded the same text."""
        import numpy as np
        from synth.filters import embed

        reuse = [doc.metadata.pop(EMBEDDING_KEY, None) for doc in docs]
        todo = [i for i, (r, t) in enumerate(zip(reuse, texts)) if r is None or r[0] != t]
        out = np.empty((len(docs), embed.dimension(self.model)), dtype=np.float32)
        if todo:
            out[todo] = embed.encode([texts[i] for i in todo], self.model)
        for i, r in enumerate(reuse):
            if r is not None and r[0] == texts[i]:
                out[i] = r[1]
        return out
