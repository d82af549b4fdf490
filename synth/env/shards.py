"""Parallel parse for `corpus build --workers N --executor local|ray|slurm`: the source split into shards.

Parsing (XML + wikitext -> text, links) is nearly all of an ingest's CPU, and it needs no global state,
so it runs as datatrove tasks: each task streams its share of the source -- a byte range of whole bz2
streams of a multistream dump (see `sources.multistream`), or a run of consecutive files of a sharded
JSONL/Parquet corpus -- and writes the `RawDoc`s it parsed to `staging/parsed/NNNNN.parquet`. Pass 1
(`ingest.stage`: duplicate ids, titles, aliases) then reads the shards back in order, so the corpus is
the same for any split and any executor. A finished shard has a datatrove completion file: a resumed
build re-parses only the shards that were not finished. The split is saved with the staging data and a
different one (other --workers) starts the parse afresh.
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
from datatrove.pipeline.base import PipelineStep

from synth.env.records import RawDoc, RawLink, parse_timestamp
from synth.env.writers import BatchWriter, iter_batches

SHARD_BYTES = 256 << 20  # of compressed dump per task at most: ~50 s of parsing, the unit of resume
LINK = pa.struct([("target", pa.string()), ("anchor", pa.string()), ("start", pa.int64()), ("end", pa.int64())])
PARSED_SCHEMA = pa.schema([
    ("id", pa.string()), ("title", pa.string()), ("text", pa.large_string()), ("links", pa.list_(LINK)),
    ("updated_at", pa.string()), ("categories", pa.list_(pa.string())), ("redirect", pa.string()),
    ("aliases", pa.list_(pa.string())), ("where", pa.string()), ("problem", pa.list_(pa.string()))])


def plan_shards(spec: str, workers: int) -> list[dict] | None:
    """The shares of a splittable source, or None (one stream: the serial path)."""
    from synth.env.sources import source_kind

    kind = source_kind(spec)
    if kind == "mediawiki":
        return _plan_streams(Path(spec), workers)
    if kind == "tabular":
        return _plan_files(Path(spec), workers)
    return None


def _plan_streams(dump: Path, workers: int) -> list[dict] | None:
    from synth.env.sources.multistream import index_for, split_streams, stream_offsets

    index = index_for(dump)
    if index is None:
        return None
    offsets, size = stream_offsets(index), dump.stat().st_size
    tasks = max(workers, math.ceil(size / SHARD_BYTES))
    first = int(offsets[0]) if len(offsets) else 0
    return [{"dump": str(dump), "start": a, "end": b, "first": first} for a, b in split_streams(offsets, size, tasks)]


def _plan_files(path: Path, workers: int) -> list[dict] | None:
    from synth.dataset import expand

    files = [str(f) for f, _ in expand(path) if f.is_file()]
    if len(files) < 2:
        return None
    tasks = min(workers, len(files))
    cuts = [len(files) * k // tasks for k in range(tasks + 1)]
    return [{"files": files[a:b]} for a, b in zip(cuts, cuts[1:])]


def iter_share(share: dict, max_doc_bytes: int) -> Iterator[RawDoc]:
    if "files" in share:
        from synth.env.sources.tabular import iter_tabular

        for name in share["files"]:
            yield from iter_tabular(Path(name), max_doc_bytes)
        return
    from synth.env.sources.multistream import iter_stream_range

    yield from iter_stream_range(Path(share["dump"]), share["start"], share["end"], share["first"])


class ParseShard(PipelineStep):
    """One datatrove task = one share of the source, parsed into `parsed/RANK.parquet` (+ its figures)."""

    name = "parse corpus shard"
    type = "synth"

    def __init__(self, plan: list[dict], parsed: str, max_doc_bytes: int):
        super().__init__()
        self.plan, self.parsed, self.max_doc_bytes = plan, parsed, max_doc_bytes

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        started, cpu, docs = time.perf_counter(), time.process_time(), 0
        with BatchWriter(Path(self.parsed) / f"{rank:05d}.parquet", PARSED_SCHEMA, batch_rows=512) as out:
            for doc in iter_share(self.plan[rank], self.max_doc_bytes):
                out.add(to_row(doc))
                docs += 1
        figures = {"rank": rank, "documents": docs, "seconds": round(time.perf_counter() - started, 2),
                   "cpu_seconds": round(time.process_time() - cpu, 2),
                   "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
        (Path(self.parsed) / f"{rank:05d}.json").write_text(json.dumps(figures))
        yield from ()


def to_row(doc: RawDoc) -> dict:
    from synth.env.ingest import iso

    return {"id": doc.id, "title": doc.title, "text": doc.text, "updated_at": iso(doc.updated_at),
            "links": [{"target": k.target, "anchor": k.anchor, "start": k.start, "end": k.end} for k in doc.links],
            "categories": doc.categories, "redirect": doc.redirect, "aliases": doc.aliases, "where": doc.where,
            "problem": list(doc.problem) if doc.problem else None}


def from_row(row: dict) -> RawDoc:
    return RawDoc(id=row["id"], title=row["title"], text=row["text"], updated_at=parse_timestamp(row["updated_at"]),
                  links=[RawLink(**link) for link in row["links"]], categories=row["categories"],
                  redirect=row["redirect"], aliases=row["aliases"], where=row["where"],
                  problem=tuple(row["problem"]) if row["problem"] else None)


def iter_parsed(parsed: Path, tasks: int) -> Iterator[RawDoc]:
    """Every parsed document, shard after shard: the source's order."""
    for rank in range(tasks):
        for batch in iter_batches(parsed / f"{rank:05d}.parquet", batch_rows=512):
            for row in batch.to_pylist():
                yield from_row(row)


def parse_in_parallel(plan: list[dict], staging: Path, runtime, max_doc_bytes: int) -> list[dict]:
    """Run (or resume) the parse tasks; returns each task's figures (documents, seconds, peak RSS)."""
    from synth.engine import _make_executor, _quiet_datatrove  # as every synth command builds and quiets it

    if runtime.executor == "slurm":  # datatrove's Slurm executor submits and returns: nothing to merge yet
        from synth.errors import UserError

        raise UserError("corpus build: --executor slurm is not supported yet; use local or ray")
    parsed, logs = staging / "parsed", staging / "parse-logs"
    saved = staging / "plan.json"
    if not saved.is_file() or json.loads(saved.read_text()) != plan:  # another split: start the parse afresh
        shutil.rmtree(parsed, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
        parsed.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(plan))
    step = ParseShard(plan, str(parsed), max_doc_bytes)
    _quiet_datatrove()
    _make_executor(runtime, [step], len(plan), logs).run()
    return [json.loads((parsed / f"{rank:05d}.json").read_text()) for rank in range(len(plan))]
