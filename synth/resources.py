"""Running out of a machine resource (disk, memory, file descriptors) is not a synth bug: one line that
names --out and what to do, exit 1. Finished chunks are committed (synth.writer), so the same command
resumes once the resource is back."""

from __future__ import annotations

import errno
from pathlib import Path

# errno -> (what ran out, what to do)
RESOURCES = {
    errno.ENOSPC: ("disk full", "free space on that disk (or choose another --out)"),
    errno.EDQUOT: ("disk quota exceeded", "free space within your quota (or choose another --out)"),
    errno.EMFILE: ("too many open files", "raise the limit (ulimit -n) or lower --workers"),
    errno.ENFILE: ("too many open files on the system", "close other programs or lower --workers"),
    errno.ENOMEM: ("out of memory", "free memory, or lower --workers / --chunk-size"),
}
# pyarrow and others sometimes word the errno without setting it
WORDING = {"No space left on device": errno.ENOSPC, "Disk quota exceeded": errno.EDQUOT,
           "Too many open files": errno.EMFILE, "Cannot allocate memory": errno.ENOMEM}


def _errno_of(exc: BaseException) -> int | None:
    if isinstance(exc, MemoryError):
        return errno.ENOMEM
    if isinstance(exc, OSError) and exc.errno in RESOURCES:
        return exc.errno
    text = str(exc)
    return next((code for words, code in WORDING.items() if words in text), None)


def resource_message(exc: BaseException, out: Path | str | None) -> str | None:
    """The one line for an exception caused (anywhere in its chain) by a resource running out, else None."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        code = _errno_of(exc)
        if code is not None:
            what, todo = RESOURCES[code]
            where = f"--out {out}" if out else "synth"
            return f"{where}: {what}; {todo}, then re-run the same command to resume"
        exc = exc.__cause__ or exc.__context__
    return None
