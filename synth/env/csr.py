"""The link graph's on-disk adjacency: link ids grouped by source row and by target row (CSR), in .npy
files that the runtime memory-maps, so a worker's memory does not grow with the corpus.

Built by an external counting sort: the row of every link is already known (0..n), so one pass over the
link rows in chunks counts them (`ptr`), a second scatters each chunk's link ids to their slots in a
memory-mapped output. RAM holds the n+1 pointers and one chunk, never all links. Within a row, links
keep their id order (the order they were found in the text), as the in-memory argsort(stable) did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap

CHUNK = 1 << 22  # links per pass step: 4M ids (32 MiB of int64 keys)


class RowSpill:
    """Appends int32 rows to a raw file in batches: the link -> src/dst row columns, never all in RAM."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self._fh, self._buf, self.count = path, open(path, "wb"), [], 0

    def add(self, row: int) -> None:
        self._buf.append(row)
        if len(self._buf) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        self._fh.write(np.asarray(self._buf, dtype=np.int32).tobytes())
        self.count += len(self._buf)
        self._buf = []

    def close(self) -> np.ndarray:
        self._flush()
        self._fh.close()
        return np.memmap(self.path, dtype=np.int32, mode="r") if self.count else np.zeros(0, np.int32)


def save_rows(rows: np.ndarray, path: Path) -> None:
    """A row column as .npy (memory-mappable), written chunk by chunk."""
    out = open_memmap(path, mode="w+", dtype=np.int32, shape=(len(rows),))
    for start in range(0, len(rows), CHUNK):
        out[start: start + CHUNK] = rows[start: start + CHUNK]
    out.flush()


def counting_sort(keys: np.ndarray, n: int, out_dir: Path, name: str) -> None:
    """NAME_ptr.npy (n+1 offsets) and NAME_ids.npy (link ids grouped by key, stable) from `keys` (0..n-1)."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    for start in range(0, len(keys), CHUNK):
        ptr[1:] += np.bincount(keys[start: start + CHUNK], minlength=n)
    np.cumsum(ptr, out=ptr)
    dtype = np.int32 if len(keys) < 2**31 else np.int64
    ids = open_memmap(out_dir / f"{name}_ids.npy", mode="w+", dtype=dtype, shape=(len(keys),))
    fill = ptr[:-1].copy()
    for start in range(0, len(keys), CHUNK):
        chunk = np.asarray(keys[start: start + CHUNK])
        order = np.argsort(chunk, kind="stable")
        ranked = chunk[order]
        first = np.searchsorted(ranked, ranked, side="left")  # where each key's run starts in this chunk
        ids[fill[ranked] + (np.arange(len(ranked)) - first)] = start + order
        fill += np.bincount(chunk, minlength=n)
    ids.flush()
    np.save(out_dir / f"{name}_ptr.npy", ptr)


def distinct_counts(ptr: np.ndarray, ids: np.ndarray, other: np.ndarray, n: int) -> np.ndarray:
    """Per row: how many distinct `other` rows its links reach (distinct neighbours), a block of rows at a
    time (each block's links sorted in RAM: at most ~CHUNK links, or one row's)."""
    counts = np.zeros(n, dtype=np.int64)
    row = 0
    while row < n:
        end = max(row + 1, int(np.searchsorted(ptr, ptr[row] + CHUNK, side="right")) - 1)
        end = min(end, n)
        lo, hi = int(ptr[row]), int(ptr[end])
        if hi > lo:
            owners = np.repeat(np.arange(row, end, dtype=np.int64), np.diff(ptr[row: end + 1]))
            pairs = np.unique(owners * n + np.asarray(other[np.asarray(ids[lo:hi])], dtype=np.int64))
            counts[row:end] = np.bincount(pairs // n - row, minlength=end - row)
        row = end
    return counts
