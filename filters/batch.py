"""A datatrove step that sees records in batches (embedding models want hundreds at a time) and still
yields every document, rejects included, in its original order (chunk commits and decision files rely on
positions arriving in increasing order)."""

from __future__ import annotations

import traceback

from datatrove.pipeline.base import PipelineStep

from synth import records
from synth.records import Reject


class BatchStep(PipelineStep):
    type = "🔻 - FILTER"
    batch_size: int = 256

    def setup(self, rank: int, world_size: int) -> None:
        """Per-task initialisation (models, indexes): runs in the worker, not at pickling."""

    def process_batch(self, docs: list) -> None:
        """Look at the live documents of one batch; mark rejects with `self.reject(doc, Reject(...))`."""
        raise NotImplementedError

    def reject(self, doc, reject: Reject) -> None:
        self.stat_update(reject.reason)
        records.mark_reject(doc, reject, self.name)

    def run(self, data, rank: int = 0, world_size: int = 1):
        self.setup(rank, world_size)
        pending: list = []
        for doc in data:
            pending.append(doc)
            if len(pending) >= self.batch_size:
                yield from self._flush(pending)
                pending = []
        yield from self._flush(pending)

    def _flush(self, docs: list):
        live = [d for d in docs if records.reject_of(d) is None]
        if live:
            with self.track_time(unit="batch"):
                try:
                    self.process_batch(live)
                except Exception as exc:  # noqa: BLE001 - a bad batch must not kill a long run
                    detail = f"{type(exc).__name__}: {exc}"[:500]
                    for doc in live:
                        self.stat_update("internal_error")
                        records.mark_reject(doc, Reject("internal_error", detail), self.name,
                                            raw=traceback.format_exc(limit=8))
        yield from docs
