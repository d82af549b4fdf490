"""Pipeline heads: turn inputs (records, or item indices for generators) into documents for one task.

Positions 0..total-1 are split into contiguous ranges, one per datatrove task, so concatenating the
tasks' shards in name order gives the input order back. Within a task, positions are grouped into
chunks of `chunk_size`: the unit of commit and resume. Committed chunks are skipped on a re-run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from datatrove.pipeline.base import PipelineStep

from synth import records, state
from synth.dataset import iter_rows


def task_range(total: int, rank: int, world_size: int) -> range:
    lo = total * rank // world_size
    return range(lo, total * (rank + 1) // world_size)


class _ChunkedSource(PipelineStep):
    type = "📖 - READER"

    def __init__(self, out: str | Path, total: int, chunk_size: int, skip_done: bool = True):
        super().__init__()
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        self.out, self.total, self.chunk_size = Path(out), total, chunk_size
        self.skip_done = skip_done  # False where something else owns resume: engine stages, a self-skipping tail

    def _todo(self, rank: int, world_size: int) -> Iterator[tuple[int, int]]:
        """(position, chunk) of every item this task still has to do."""
        done = state.done_chunks(self.out, rank) if self.skip_done else set()
        positions = task_range(self.total, rank, world_size)
        for pos in positions:
            chunk = (pos - positions.start) // self.chunk_size
            if chunk not in done:
                yield pos, chunk


class RecordSource(_ChunkedSource):
    """Records of the inputs (already validated by the engine's pre-pass)."""

    name = "synth records"

    def __init__(self, inputs: list[str], out, total: int, chunk_size: int,
                 text: Callable[[dict], str] = records.record_text, skip_done: bool = True):
        super().__init__(out, total, chunk_size, skip_done)
        self.inputs, self.text = [str(p) for p in inputs], text

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        todo = self._todo(rank, world_size)
        want = next(todo, None)
        if want is None:
            return
        for pos, row in enumerate(iter_rows(self.inputs)):
            if pos < want[0]:
                continue
            self.stat_update("read")
            yield records.to_document(row.record, key=str(pos), chunk=want[1], text=self.text)
            want = next(todo, None)
            if want is None:
                return


class IndexSource(_ChunkedSource):
    """Item indices 0..total-1 for generators: `make(index)` builds the work item record."""

    name = "synth items"

    def __init__(self, out, total: int, chunk_size: int, make: Callable[[int], dict],
                 text: Callable[[dict], str] = records.record_text, skip_done: bool = True):
        super().__init__(out, total, chunk_size, skip_done)
        self.make, self.text = make, text

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        for pos, chunk in self._todo(rank, world_size):
            self.stat_update("items")
            yield records.to_document(self.make(pos), key=str(pos), chunk=chunk, text=self.text)
