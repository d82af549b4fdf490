"""The main pipeline's side of dedup: drop exactly the records the decide stage listed for this task.

Decision files are sorted by input position and the source yields positions in increasing order, so one
cursor walks both (chunks skipped on resume are simply passed over): constant memory.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from datatrove.pipeline.base import PipelineStep

from synth import records
from synth.records import Reject


class ApplyDecisions(PipelineStep):
    name = "apply decisions"
    type = "🔻 - FILTER"

    def __init__(self, folder: str | Path):
        super().__init__()
        self.folder = Path(folder)

    def run(self, data, rank: int = 0, world_size: int = 1):
        with open(self.folder / f"{rank:05d}.jsonl", "rb") as fh:
            decisions = (orjson.loads(line) for line in fh)
            upcoming = next(decisions, None)
            for doc in data:
                pos = int(doc.metadata[records.KEY]["key"])
                while upcoming is not None and upcoming["pos"] < pos:
                    upcoming = next(decisions, None)
                if upcoming is not None and upcoming["pos"] == pos and records.reject_of(doc) is None:
                    self.stat_update(upcoming["reason"])
                    records.mark_reject(doc, Reject(upcoming["reason"], upcoming.get("detail")),
                                        upcoming.get("step") or self.name, raw=upcoming.get("raw"))
                yield doc
