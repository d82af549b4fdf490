"""Base classes for synth's own pipeline steps: a record map and a record filter.

Both are datatrove steps. They see records (dicts), not Documents, and never swallow an item: a dropped
record becomes a reject document with a stable reason, which later steps pass through untouched and the
writer files under rejects/. An exception inside one record's processing is a bug, but it must not kill a
long run: it becomes the reject `internal_error` (with the exception text) and is counted.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable

from datatrove.pipeline.base import PipelineStep

from synth import records
from synth.records import Reject

Result = dict | Reject | list[dict] | None


class RecordStep(PipelineStep):
    """Subclasses implement `process(record) -> record | Reject | [records]` (a list of >1 = one-to-many)."""

    type = "🔧 - SYNTH"
    text: Callable[[dict], str] | None = None  # recompute Document.text after a change, if set

    def setup(self, rank: int, world_size: int) -> None:
        """Per-task initialisation (open indexes, load models) — runs in the worker, not at pickling."""

    def process(self, record: dict) -> Result:
        raise NotImplementedError

    def run(self, data: Iterable, rank: int = 0, world_size: int = 1):
        self.setup(rank, world_size)
        for doc in data:
            if records.reject_of(doc) is None:
                with self.track_time():
                    self._apply(doc)
            yield doc

    def _apply(self, doc) -> None:
        try:
            result = self.process(records.record_of(doc))
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the run
            self.stat_update("internal_error")
            detail = f"{type(exc).__name__}: {exc}"
            records.mark_reject(doc, Reject("internal_error", detail[:500]), self.name,
                                raw=traceback.format_exc(limit=8))
            return
        if isinstance(result, Reject):
            self.stat_update(result.reason)
            records.mark_reject(doc, result, self.name)
        elif isinstance(result, list):
            if not result:
                records.mark_reject(doc, Reject("no_output"), self.name)
                return
            records.set_record(doc, result[0], self.text)
            records.add_records(doc, result[1:])
        elif isinstance(result, dict):
            records.set_record(doc, result, self.text)


class FilterStep(RecordStep):
    """Subclasses implement `check(record) -> None (keep) | Reject (drop, with reason)`."""

    type = "🔻 - FILTER"

    def check(self, record: dict) -> Reject | None:
        raise NotImplementedError

    def process(self, record: dict) -> Result:
        verdict = self.check(record)
        return verdict if isinstance(verdict, Reject) else record
