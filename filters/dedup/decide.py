"""Stage `decide` (one task): every dedup method over the whole run, then one decision file per main
task (OUT/.synth/stages/decide/decisions/RRRRR.jsonl, sorted by input position), a report, and the run's
kept records published to the persistent index.

Order: exact, MinHash, semantic, trajectory, answer cap; each sees only what the previous ones kept, so a
record is removed once, by the cheapest method that finds it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from datatrove.pipeline.base import PipelineStep
from synth.filters.dedup import methods as mt
from synth.filters.dedup import output
from synth.filters.dedup.index import Loaded

from synth import state


@dataclass
class DecideOptions:
    methods: list[str]
    kind: str
    threshold: float = 0.9
    neighbors: int = 16
    ann: str = "auto"
    seed: int = 0
    max_per_answer: int = 0
    dim: int = 384
    index: str | None = None
    run_key: str = ""
    index_settings: dict = field(default_factory=dict)
    run_info: dict = field(default_factory=dict)


def needed_keys(opts: DecideOptions) -> tuple[str, ...]:
    """The sign stage's columns this run's methods read (the others are not loaded)."""
    wanted = {"exact": "exact", "trajectory": "traj"}
    keys = ["pos", "verified", "length"] + [wanted[m] for m in opts.methods if m in wanted]
    return tuple(keys + (["answer_hash"] if opts.max_per_answer else []))


class Embeddings:
    """Rows of the sign stage's per-task embedding files, memory-mapped and gathered on demand."""

    def __init__(self, files: list[Path], offsets: np.ndarray, dim: int, rows: np.ndarray):
        self.files, self.offsets, self.dim, self.rows = files, offsets, dim, rows
        self.maps = [np.memmap(f, dtype=np.float32, mode="r").reshape(-1, dim) if f.stat().st_size else None
                     for f in files]
        self.shape = (len(rows), dim)

    def subset(self, keep: np.ndarray) -> Embeddings:
        return Embeddings(self.files, self.offsets, self.dim, self.rows[keep])

    def __getitem__(self, which) -> np.ndarray:
        rows = self.rows[which]
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        task = np.searchsorted(self.offsets, rows, side="right") - 1
        for t in np.unique(task):
            mask = task == t
            out[mask] = self.maps[t][rows[mask] - self.offsets[t]]
        return out


class DecideStep(PipelineStep):
    name = "dedup decide"
    type = "🫂 - DEDUP"

    def __init__(self, sign_dir: str, cluster_dir: str, folder: str, total: int, tasks: int, options: DecideOptions):
        super().__init__()
        self.sign_dir, self.cluster_dir, self.folder = Path(sign_dir), Path(cluster_dir), Path(folder)
        self.total, self.tasks, self.options = total, tasks, options

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        started = time.perf_counter()
        opts = self.options
        meta = output.load_meta(self.sign_dir, self.tasks, needed_keys(opts))
        past = Loaded(opts.index, opts.run_key, ["exact", "traj", "answer_hash"],
                      opts.dim if "semantic" in opts.methods else 0)
        rm = mt.Removals(np.ones(len(meta["pos"]), dtype=bool))
        prio = mt.priority(meta.pop("verified"), meta.pop("length"), meta["pos"])  # read once: freed here
        report = {"signed": len(prio), "index_runs": [r.path.name for r in past.runs], "methods": {}}
        with self.track_time():
            for method in opts.methods:
                report["methods"][method] = self._apply(method, meta, rm, prio, past)
            if opts.max_per_answer:
                mt.answer_cap(meta["answer_hash"], rm, prio, opts.max_per_answer, past.columns["answer_hash"])
                report["methods"]["answer_cap"] = {"cap": opts.max_per_answer}
        for method, stats in report["methods"].items():
            stats.update(removed=rm.count(method), index_matches=rm.count(method, index_only=True))
            self.stat_update(f"duplicate_{method}", value=stats["removed"])
        report["kept"] = int(rm.alive.sum())
        output.write_decisions(self.folder / "decisions", self.sign_dir, meta, rm, past, self.total, self.tasks,
                               opts.max_per_answer)
        if opts.index:
            report["published"] = output.publish(self.sign_dir, meta, rm, opts)
        report["seconds"] = round(time.perf_counter() - started, 3)
        report["options"] = {k: v for k, v in asdict(opts).items() if k not in ("index_settings", "run_info")}
        state.write_json_atomic(self.folder / "report.json", report)
        return
        yield  # a generator, as datatrove steps are

    def _apply(self, method: str, meta: dict, rm: mt.Removals, prio: np.ndarray, past: Loaded) -> dict:
        opts = self.options
        if method == "exact":  # a key column is read by one method only: freed once it has run
            mt.by_key("exact", meta.pop("exact"), rm, prio, past.columns["exact"])
        elif method == "trajectory":
            mt.by_key("trajectory", meta.pop("traj"), rm, prio, past.columns["traj"])
        elif method == "minhash":
            clusters = mt.read_minhash_clusters(self.cluster_dir, meta["offsets"], past)
            mt.minhash(clusters, rm, prio)
            return {"clustered_records": len(clusters[0])}
        elif method == "semantic":
            rows = np.flatnonzero(rm.alive)
            files = [self.sign_dir / "emb" / f"{t:05d}.f32" for t in range(self.tasks)]
            vectors = Embeddings(files, meta["offsets"], opts.dim, rows)
            info = mt.semantic(vectors, rows, rm, prio, opts.threshold, opts.neighbors, opts.ann, opts.seed,
                               (past.embeddings, past.emb_rows) if past.size else None)
            return {**info, "threshold": opts.threshold, "neighbors": opts.neighbors}
        return {}
