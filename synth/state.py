"""The hidden `.synth/` folder of an output directory: what resume needs and nothing else.

    .synth/state.json             command, kind and resolved-config hash of the run that owns the folder
    .synth/chunks/RRRRR_CCCCC.json  commit marker of one finished chunk (counts, usage, its files)
    .synth/progress/RRRRR         items finished by task RRRRR (read by the progress bar)
    .synth/error.json             a user error raised inside a worker (shown as one line, exit 2)
    .synth/lock                   held (POSIX lock) by the one process writing --out; holds its pid
    .synth/stopped/RRRRR.json     task RRRRR stopped early on purpose (e.g. a spending cap): resumable
    .synth/logs/                  datatrove's logging dir: task completions, stats, per-task logs
    .synth/stages/NAME/           a Job stage's files (its own logs/ with completions, progress/, outputs)

A chunk's files are renamed into data/ and rejects/ before its marker is written, so a marker always
means "these files are complete"; files without a marker are crash leftovers and are removed on resume.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@contextmanager
def writer_lock(out: Path) -> Iterator[None]:
    """Hold OUT/.synth/lock (an advisory POSIX lock) while this process writes --out.

    `lockf` locks belong to the process, are not inherited by forked workers and vanish when the process
    dies, SIGKILL included, so a crashed run never blocks the next one. The holder's pid is in the file."""
    import fcntl

    from synth.errors import UserError

    path = state_dir(out) / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise UserError(f"{out}: another synth process (pid {holder}) is writing this --out; "
                            "wait for it to finish, or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # missing, damaged or absurdly nested: not there
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
    chunks = (p.stem.split("_", 1)[1] for p in folder.glob(f"{prefix}*.json"))
    return {int(c) for c in chunks if c.isdigit()}


def all_markers(out: Path) -> list[dict]:
    """The readable commit markers (an unreadable one is redone on resume: synth.repair)."""
    folder = state_dir(out) / "chunks"
    found = [read_json(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    return [m for m in found if isinstance(m, dict)]


def progress_path(out: Path, rank: int) -> Path:
    return state_dir(out) / "progress" / f"{rank:05d}"


def sum_progress(folder: Path) -> int:
    """Sum of the per-task item counts in `folder` (the writer's, or a stage's)."""
    total = 0
    for p in folder.glob("[!.]*") if folder.is_dir() else []:  # not the .tmp files being renamed in
        try:
            total += int(p.read_text() or 0)
        except (OSError, ValueError):
            pass  # being replaced right now; the next poll reads it
    return total


def write_progress(folder: Path, rank: int, items: int) -> None:
    """Publish a task's item count for the progress bar (write-then-rename, so polls never see half)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{rank:05d}.tmp"
    tmp.write_text(str(items))
    os.replace(tmp, folder / f"{rank:05d}")


# -- tasks that stopped early on purpose ------------------------------------------------------------------
# A task that stops gracefully (a spending cap) must not fail under datatrove (a failed task in a worker pool
# tears its siblings down), so datatrove records it as completed; this marker says it is not. `run_job`
# reports such a run with its own status and clears marker + completion on the next run (see synth.engine).


def mark_stopped(out: Path, rank: int, reason: str, message: str) -> None:
    write_json_atomic(state_dir(out) / "stopped" / f"{rank:05d}.json", {"rank": rank, "reason": reason,
                                                                        "message": message})


def stopped_tasks(out: Path) -> list[dict]:
    folder = state_dir(out) / "stopped"
    found = [read_json(p) for p in sorted(folder.glob("[0-9]*.json"))] if folder.is_dir() else []
    return [m for m in found if isinstance(m, dict)]


def clear_stopped(out: Path, completions: Path) -> list[int]:
    """Forget every early stop (marker + the completion datatrove wrote for it): those tasks run again."""
    ranks = []
    for marker in stopped_tasks(out):
        rank = int(marker.get("rank", -1))
        (Path(completions) / f"{rank:05d}").unlink(missing_ok=True)
        (state_dir(out) / "stopped" / f"{rank:05d}.json").unlink(missing_ok=True)
        ranks.append(rank)
    return ranks
