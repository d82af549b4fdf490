"""Before a resume: hold every committed chunk to its marker, so damage is redone, never certified again.

A chunk counts as committed only if its marker parses and every shard it certifies is on disk as certified
(synth.integrity, fast check). Otherwise the marker and the chunk's files go, the task that owns the chunk
is marked unfinished (its datatrove completion file, and the teacher runner's last-chunk index), and one
warning line says what is redone. A task whose markers do not cover its whole item range (markers deleted)
runs again too. Files in data/ or rejects/ that no marker certifies are crash leftovers when named like
synth's shards (removed), and refused otherwise: synth does not delete what it did not write.
"""

from __future__ import annotations

import re
from pathlib import Path

from synth import state
from synth.dataset import DATA, MANIFEST, REJECTS, STATE
from synth.errors import UserError
from synth.integrity import shard_problem
from synth.sources import task_range

MARKER_NAME = re.compile(r"^(\d{5})_(\d{5})\.json$")
SHARD_NAME = re.compile(r"^\d{5}_\d{5}\.(parquet|jsonl)$")


def repair_output(out: Path, total: int, tasks: int, chunk_size: int) -> list[str]:
    """Check committed chunks of OUT against their markers; undo the damaged ones. Returns the warnings."""
    out = Path(out)
    folder = state.state_dir(out) / "chunks"
    notes: list[str] = []
    redo: dict[int, int] = {}  # rank -> first chunk to redo
    certified: set[str] = set()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        name = MARKER_NAME.match(path.name)
        if name is None:
            continue
        rank, chunk = int(name.group(1)), int(name.group(2))
        problem, files = _marker_problem(out, path, rank, chunk)
        if problem is None:
            certified.update(files)
            continue
        notes.append(f"{out}: redoing chunk {path.stem}: {problem}")
        _undo_chunk(out, path)
        redo[rank] = min(redo.get(rank, chunk), chunk)
    notes += _stray_files(out, certified)
    for rank, first in _uncovered(out, total, tasks, chunk_size).items():
        if rank not in redo:
            notes.append(f"{out}: task {rank} was marked finished but chunk {first} has no commit marker; redoing it")
        redo[rank] = min(redo.get(rank, first), first)
    for rank, first in redo.items():
        _reopen_task(out, rank, first)
    if redo:
        (out / MANIFEST).unlink(missing_ok=True)  # a manifest means complete: it is written again at the end
    return notes


def _marker_problem(out: Path, path: Path, rank: int, chunk: int) -> tuple[str | None, list[str]]:
    marker = state.read_json(path)
    if not isinstance(marker, dict) or marker.get("rank") != rank or marker.get("chunk") != chunk:
        return "its commit marker is unreadable", []
    shards = marker.get("shards")
    if not isinstance(shards, list):  # written before shards were certified: the files must at least exist
        files = [f for f in marker.get("files") or [] if isinstance(f, str)]
        missing = [f for f in files if not (out / f).is_file()]
        return (f"{missing[0]} missing" if missing else None), files
    for shard in shards:
        if not isinstance(shard, dict) or not isinstance(shard.get("file"), str):
            return "its commit marker is unreadable", []
        problem = shard_problem(out, shard, deep=False)
        if problem:
            return f"{shard['file']} {problem}", []
    return None, [s["file"] for s in shards]


def _undo_chunk(out: Path, marker: Path) -> None:
    marker.unlink(missing_ok=True)
    for folder in (DATA, REJECTS):
        for shard in (out / folder).glob(f"{marker.stem}.*"):
            shard.unlink(missing_ok=True)


def _stray_files(out: Path, certified: set[str]) -> list[str]:
    notes = []
    for folder in (DATA, REJECTS):
        for path in sorted((out / folder).glob("[!.]*")) if (out / folder).is_dir() else []:
            rel = f"{folder}/{path.name}"
            if rel in certified:
                continue
            if not SHARD_NAME.match(path.name):
                raise UserError(f"{path}: not written by synth (no commit marker certifies it); move it out of "
                                "--out and re-run")
            path.unlink(missing_ok=True)
            notes.append(f"{out}: removed {rel}: no commit marker certifies it")
    return notes


def _uncovered(out: Path, total: int, tasks: int, chunk_size: int) -> dict[int, int]:
    """Ranks datatrove marks finished whose item range is not covered by commit markers: first missing chunk."""
    found = {}
    completions = out / STATE / "logs" / "completions"
    for rank in range(tasks):
        if not (completions / f"{rank:05d}").is_file():
            continue
        chunks = -(-len(task_range(total, rank, tasks)) // chunk_size)
        done = state.done_chunks(out, rank)
        missing = [c for c in range(chunks) if c not in done]
        if missing:
            found[rank] = missing[0]
    return found


def _reopen_task(out: Path, rank: int, first: int) -> None:
    """Make datatrove run task RANK again, and the teacher runner replay from chunk FIRST."""
    (out / STATE / "logs" / "completions" / f"{rank:05d}").unlink(missing_ok=True)
    last = out / STATE / "inference" / "last_chunk" / f"{rank:05d}.txt"
    try:
        recorded = int(last.read_text().strip())
    except (OSError, ValueError):
        return
    if recorded >= first:
        state.write_text_atomic(last, str(first - 1))
