"""`--dry-run`: what a job would do, without doing it. Nothing is sent to a teacher, nothing is written.

The documents are the ones the run would hand its tail: the job's source (committed chunks skipped, as a
resume would) through the job's steps. A job whose tail can project itself (a teacher job:
synth.teachers.job.TeacherTail.project) counts its requests, tokens and cost on them; any other job
reports its items and that it calls no teacher.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from synth import records
from synth.dataset import STATE


def dry_run(job, rt, total: int, tasks: int) -> dict:
    """The summary `--dry-run` prints (run_job returns it instead of running)."""
    docs = pending_documents(job, total, tasks)
    project = getattr(job.tail, "project", None)
    if callable(project):
        return project(job, docs, total, rt)
    todo = sum(1 for _ in docs)
    notes = ["no teacher: this run sends no requests"]
    if rt.pilot:
        notes.append("--pilot ignored: there is no teacher to measure")
    return {"command": job.command, "out": str(job.out), "status": "dry_run", "records": total,
            "records_done": total - todo, "records_to_do": todo, "requests": 0, "prompt_tokens": 0,
            "completion_tokens": 0, "total_tokens": 0, "notes": notes}


def pending_documents(job, total: int, tasks: int) -> Iterator:
    """The documents a (resumed) run would give its tail, task by task, in the driver."""
    from synth.sources import IndexSource, RecordSource

    text = job.text or records.record_text
    for rank in range(tasks):
        if job.make_item is not None:
            source = IndexSource(job.out, total, job.chunk_size, job.make_item, text=text, skip_done=True)
        else:
            source = RecordSource(job.inputs, job.out, total, job.chunk_size, text=text, skip_done=True)
        data = source(None, rank, tasks)
        for step in job.steps:
            data = step(data, rank, tasks)
        checkpointed = _checkpointed(Path(job.out), rank)
        for doc in data or ():
            if doc.metadata[records.KEY]["key"] not in checkpointed:
                yield doc


def _checkpointed(out: Path, rank: int) -> set[str]:
    """Positions already answered in chunks not yet committed (the teacher runner's own checkpoints)."""
    found: set[str] = set()
    folder = out / STATE / "inference" / f"{rank:05d}"
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("chunk_*.jsonl")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                found.add(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a crash: that record is done again
    return found
