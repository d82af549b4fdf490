"""Batched Arrow writers: parquet or Arrow IPC, written in fixed-size batches so memory stays flat."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 4096
LARGE_COLUMNS = ("text",)
BATCH_CHARS = 8 << 20  # ...or fewer rows, once their strings hold this many characters: a batch of large
#                        documents (or one 20 MB page) is written at once instead of piling up 4096 of them


class BatchWriter:
    """Append dict rows; every `batch_rows` rows (or `batch_chars` characters of strings) become one record
    batch (one parquet row group)."""

    def __init__(self, path: Path, schema: pa.Schema, *, fmt: str = "parquet", batch_rows: int = BATCH_ROWS,
                 batch_chars: int = BATCH_CHARS):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.schema, self.batch_rows, self.batch_chars = path, schema, batch_rows, batch_chars
        self._chars = 0
        self._tmp = path.with_name(f".{path.name}.tmp")
        self._ipc = fmt != "parquet"
        if not self._ipc:
            # No min/max statistics nor dictionary for document texts: both copy the values (the writer
            # held ~7x a 19 MB page with them, ~2.5x without), and neither helps a column of unique texts.
            small = [name for name in schema.names if name not in LARGE_COLUMNS]
            self._writer = pq.ParquetWriter(self._tmp, schema, compression="zstd", write_statistics=small,
                                            use_dictionary=small)
        else:  # uncompressed IPC file: memory-mappable, O(1) access to any row
            self._sink = pa.OSFile(str(self._tmp), "wb")
            self._writer = pa.ipc.new_file(self._sink, schema)
        self._cols: dict[str, list] = {name: [] for name in schema.names}
        self.rows = 0

    def add(self, row: dict) -> None:
        for name, column in self._cols.items():
            value = row.get(name)
            column.append(value)
            self._chars += len(value) if isinstance(value, str) else 0
        self.rows += 1
        if len(self._cols[self.schema.names[0]]) >= self.batch_rows or self._chars >= self.batch_chars:
            self._flush()

    def _flush(self) -> None:
        if not self._cols[self.schema.names[0]]:
            return
        batch = pa.record_batch([pa.array(self._cols[n], type=self.schema.field(n).type) for n in self.schema.names],
                                schema=self.schema)
        if self._ipc:
            self._writer.write_batch(batch)
        else:
            self._writer.write_table(pa.Table.from_batches([batch]))
        self._cols = {name: [] for name in self.schema.names}
        self._chars = 0

    def write_batch(self, batch: pa.RecordBatch) -> None:
        """Write an Arrow batch of this schema as it is (after the rows added before it)."""
        self._flush()
        self.rows += batch.num_rows
        if not batch.num_rows:
            return
        if self._ipc:
            self._writer.write_batch(batch)
        else:
            self._writer.write_table(pa.Table.from_batches([batch]))

    def close(self) -> Path:
        """Flush and move into place (a crash never leaves a half file under the final name)."""
        self._flush()
        self._writer.close()
        if self._ipc:
            self._sink.close()
        self._tmp.replace(self.path)
        return self.path

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._writer.close()
            self._tmp.unlink(missing_ok=True)


def iter_batches(path: Path, columns: list[str] | None = None, batch_rows: int = BATCH_ROWS):
    """Record batches of a parquet file, `batch_rows` at a time, one row group after the other: pyarrow
    would otherwise fill a batch across row groups, and 4,096 rows of large documents cut into small row
    groups by `BatchWriter` would come back as one batch."""
    handle = pq.ParquetFile(path)
    for group in range(handle.num_row_groups):
        yield from handle.iter_batches(batch_size=batch_rows, columns=columns, row_groups=[group])
