"""The one writer: documents in, `data/` + `rejects/` shards and chunk commit markers out.

Work is committed in chunks (a fixed number of input items of one task). A chunk's records and rejects
are written to temporary files, renamed into `data/RRRRR_CCCCC.parquet` and `rejects/RRRRR_CCCCC.parquet`,
and only then its marker is written (see synth.state). On resume the source skips committed chunks and
the writer removes this task's uncommitted leftovers, so a SIGKILL at any moment loses at most the chunks
in flight and never duplicates a record.

The writer is a datatrove step (the tail of generator pipelines) and also speaks the small part of the
DiskWriter interface that datatrove's InferenceRunner uses (`write(doc, rank, chunk_index)`,
`close_file`, `output_filename`), so teacher pipelines commit through the same code.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path
from string import Template

from datatrove.pipeline.base import PipelineStep

from synth import arrow, integrity, records, schemas, state
from synth.dataset import DATA, REJECTS

PROGRESS_EVERY_S = 1.0


class _Chunk:
    def __init__(self):
        self.kept: list[dict] = []
        self.rejects: list[dict] = []
        self.kept_at: list[int] = []    # input position of each kept record / reject: a chunk written
        self.rejects_at: list[int] = []  # out of order (concurrent teacher calls) is stored in input order
        self.items = 0
        self.reasons: Counter = Counter()
        self.usage: Counter = Counter()


class DatasetWriter(PipelineStep):
    name = "synth dataset writer"
    type = "💽 - WRITER"

    def __init__(self, out: str | Path, kind: str, fmt: str = "parquet"):
        super().__init__()
        self.out, self.kind, self.fmt = Path(out), kind, fmt
        self.output_filename = Template("${rank}_${chunk_index}")  # InferenceRunner checks for ${chunk_index}
        self._open: dict[tuple[int, int], _Chunk] = {}
        self._started: dict[int, set[int]] = {}  # rank -> chunks already committed when the task started
        self._done_items = 0
        self._last_progress = 0.0

    # -- datatrove generator interface ---------------------------------------------------------------
    def run(self, data, rank: int = 0, world_size: int = 1):
        self.start(rank)
        with self:
            current = None
            for doc in data:
                chunk = doc.metadata[records.KEY]["chunk"]
                if current is not None and chunk != current:
                    self.commit(rank, current)
                current = chunk
                self.write(doc, rank, chunk)
                yield doc

    # -- InferenceRunner-compatible interface ----------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:  # a crash must not commit half a chunk
            self.close()

    def close(self) -> None:
        for rank, chunk in sorted(self._open):
            self.commit(rank, chunk)

    def _get_output_filename(self, document, rank: int = 0, **kwargs) -> str:
        return f"{rank}:{kwargs.get('chunk_index', 0)}"

    def close_file(self, filename: str) -> None:
        rank, chunk = (int(x) for x in filename.split(":"))
        self.commit(rank, chunk)

    # -- core ----------------------------------------------------------------------------------------
    def start(self, rank: int) -> None:
        """Remove this task's uncommitted leftovers and restore its progress count."""
        done = state.done_chunks(self.out, rank)
        self._started[rank] = done
        for folder in (DATA, REJECTS):
            for path in (self.out / folder).glob(f"{rank:05d}_*"):
                chunk = path.name.split(".")[0].split("_")[1]
                if not chunk.isdigit() or int(chunk) not in done:
                    path.unlink(missing_ok=True)
            for leftover in (self.out / folder).glob(f".{rank:05d}_*"):
                leftover.unlink(missing_ok=True)
        self._done_items = sum(m.get("items", 0) for m in state.all_markers(self.out) if m.get("rank") == rank)
        self._progress(rank, force=True)

    def write(self, doc, rank: int = 0, chunk_index: int = 0, **_) -> None:
        if rank not in self._started:  # the InferenceRunner path never calls run(): start on first write
            self.start(rank)
        chunk = self._open.setdefault((rank, chunk_index), _Chunk())
        chunk.items += 1
        chunk.usage.update(records.usage_of(doc))
        rejected = records.reject_of(doc)
        if rejected:
            self._add_reject(chunk, doc, rejected)
        else:
            for record in [records.record_of(doc), *records.extra_records(doc)]:
                self._add_record(chunk, doc, record)
        for extra in records.extra_rejects(doc):
            self._add_reject(chunk, doc, extra, extra.get("record"))
        self._done_items += 1
        self._progress(rank)

    def _add_record(self, chunk: _Chunk, doc, record: dict) -> None:
        error = schemas.first_error(record, self.kind)
        if error is None:
            chunk.kept.append(record)
            chunk.kept_at.append(_position(doc))
            return
        # A record that breaks its own contract is a bug upstream, but one bad record must not stop a
        # run: it becomes a counted reject that names the field.
        detail = f"field '{error[0]}': {error[1]}"
        self._add_reject(chunk, doc, {"reason": "schema_invalid", "detail": detail, "step": "writer"}, record)
        self.stat_update("schema_invalid")

    def _add_reject(self, chunk: _Chunk, doc, rejected: dict, record: dict | None = None) -> None:
        meta = doc.metadata[records.KEY]
        record = record if record is not None else meta.get("record")
        chunk.rejects_at.append(_position(doc))
        chunk.rejects.append({
            "id": str((record or {}).get("id", doc.id)),
            "reason": rejected["reason"],
            "detail": rejected.get("detail"),
            "step": rejected.get("step") or "unknown",
            "record": record if isinstance(record, dict) else None,
            "raw": raw if isinstance(raw := rejected.get("raw", meta.get("raw")), str) else None,
        })
        chunk.reasons[rejected["reason"]] += 1

    def commit(self, rank: int, chunk_index: int) -> None:
        chunk = self._open.pop((rank, chunk_index), None)
        if chunk is None:
            return
        name = state.chunk_name(rank, chunk_index)
        if chunk_index in self._started.get(rank, ()):
            # Re-committing a chunk that was already committed (an InferenceRunner replaying its checkpoint
            # after a crash between our marker and its own bookkeeping): same content; count it once.
            self._done_items -= chunk.items
        shards = []  # each file's certificate (rows, bytes, hash): resume and `validate` hold the file to it
        if chunk.kept:
            rel = self._write_file(DATA, name, _in_order(chunk.kept, chunk.kept_at), self.kind)
            shards.append(integrity.describe(self.out, rel, len(chunk.kept)))
        if chunk.rejects:
            rel = self._write_file(REJECTS, name, _in_order(chunk.rejects, chunk.rejects_at), "reject")
            shards.append(integrity.describe(self.out, rel, len(chunk.rejects)))
        state.write_json_atomic(state.marker_path(self.out, rank, chunk_index), {
            "rank": rank, "chunk": chunk_index, "items": chunk.items, "output": len(chunk.kept),
            "rejected": dict(chunk.reasons), "usage": dict(chunk.usage), "files": [s["file"] for s in shards],
            "shards": shards,
        })
        self._progress(rank, force=True)

    def _write_file(self, folder: str, name: str, rows: list[dict], kind: str) -> str:
        target = self.out / folder / f"{name}.{self.fmt}"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        if self.fmt == "jsonl":
            import orjson

            with open(tmp, "wb") as fh:
                fh.writelines(orjson.dumps(row) + b"\n" for row in rows)
        else:
            import pyarrow.parquet as pq

            pq.write_table(arrow.table(rows, kind), tmp, compression="zstd")
        os.replace(tmp, target)
        return f"{folder}/{target.name}"

    def _progress(self, rank: int, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_progress >= PROGRESS_EVERY_S:
            path = state.progress_path(self.out, rank)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(str(self._done_items))
            os.replace(tmp, path)
            self._last_progress = now


def _position(doc) -> int:
    key = doc.metadata[records.KEY].get("key")
    return int(key) if isinstance(key, str) and key.isdigit() else 0


def _in_order(rows: list[dict], positions: list[int]) -> list[dict]:
    """Rows sorted by input position; stable, so the records of one input keep their own order."""
    if all(a <= b for a, b in pairwise(positions)):
        return rows
    return [row for _, row in sorted(zip(positions, rows), key=lambda pair: pair[0])]
