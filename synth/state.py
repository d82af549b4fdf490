"""The hidden `.synth/` folder of an output directory: what resume needs and nothing else.

    .synth/state.json             command, kind and resolved-config hash of the run that owns the folder
    .synth/chunks/RRRRR_CCCCC.json  commit marker of one finished chunk (counts, usage, its files)
    .synth/progress/RRRRR         items finished by task RRRRR (read by the progress bar)
    .synth/error.json             a user error raised inside a worker (shown as one line, exit 2)
    .synth/logs/                  datatrove's logging dir: task completions, stats, per-task logs

A chunk's files are renamed into data/ and rejects/ before its marker is written, so a marker always
means "these files are complete"; files without a marker are crash leftovers and are removed on resume.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from synth.dataset import STATE


def state_dir(out: Path) -> Path:
    return Path(out) / STATE


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write-then-rename, so readers (and a SIGKILL) never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def chunk_name(rank: int, chunk: int) -> str:
    return f"{rank:05d}_{chunk:05d}"


def marker_path(out: Path, rank: int, chunk: int) -> Path:
    return state_dir(out) / "chunks" / f"{chunk_name(rank, chunk)}.json"


def done_chunks(out: Path, rank: int) -> set[int]:
    folder = state_dir(out) / "chunks"
    if not folder.is_dir():
        return set()
    prefix = f"{rank:05d}_"
    return {int(p.stem.split("_")[1]) for p in folder.glob(f"{prefix}*.json")}


def all_markers(out: Path) -> list[dict]:
    folder = state_dir(out) / "chunks"
    return [read_json(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def progress_path(out: Path, rank: int) -> Path:
    return state_dir(out) / "progress" / f"{rank:05d}"


def total_progress(out: Path) -> int:
    folder = state_dir(out) / "progress"
    total = 0
    for p in folder.glob("*") if folder.is_dir() else []:
        try:
            total += int(p.read_text() or 0)
        except (OSError, ValueError):
            pass  # being replaced right now; the next poll reads it
    return total


def reset_progress(out: Path) -> None:
    folder = state_dir(out) / "progress"
    for p in folder.glob("*") if folder.is_dir() else []:
        p.unlink(missing_ok=True)
