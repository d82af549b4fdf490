"""The persistent dedup index (`--index DIR`): the kept records of past runs, so dedup holds across runs
and against past releases.

    DIR/index.json                 signature settings every run must share (MinHash, embedding model)
    DIR/runs/SSSSS-KEY/            one published run (its kept records only), renamed into place whole
        run.json                   seq, key, output dir, kind, records, methods
        meta.parquet               id, exact, traj, answer_hash (row r = index doc r of this run)
        emb.f32                    unit embeddings (runs with semantic dedup)
        minhash/bucket_BBB.sig     datatrove signature records, doc = row (runs with MinHash)

A run is published when its keep/drop decisions are final (end of the decide stage). KEY hashes the run's
config and output dir: a resumed run replaces its own entry and never matches against itself. Runs are
published under a file lock; concurrent *decide* stages on one index are serialized, not merged.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.errors import UserError
from synth.manifest import hash_bytes

VERSION = 1


@dataclass
class Run:
    seq: int
    key: str
    path: Path
    records: int
    methods: list[str]


def run_key(config_hash: str, out: Path) -> str:
    return hash_bytes(config_hash.encode(), str(Path(out).resolve()).encode())[:16]


def settings(minhash: dict, model: str) -> dict:
    return {"version": VERSION, "minhash": minhash, "embedding_model": model}


def check(index: Path, wanted: dict) -> None:
    """Refuse an index built with other signature settings (its signatures would not compare)."""
    path = Path(index) / "index.json"
    if Path(index).exists() and not Path(index).is_dir():
        raise UserError(f"--index {index}: not a directory")
    if not path.is_file():
        return
    have = json.loads(path.read_text())
    for key in ("version", "minhash", "embedding_model"):
        if have.get(key) != wanted.get(key):
            raise UserError(f"--index {index}: built with {key}={have.get(key)}, this run uses {wanted.get(key)}")


def runs(index: Path | None, exclude: str | None = None) -> list[Run]:
    folder = Path(index or "") / "runs"
    if not index or not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        info = path / "run.json"
        if path.name.startswith(".") or not info.is_file():
            continue
        meta = json.loads(info.read_text())
        if meta["key"] != exclude:
            found.append(Run(meta["seq"], meta["key"], path, meta["records"], meta["methods"]))
    return found


def link_minhash(index: Path | None, exclude: str, sig_folder: Path, buckets: int) -> None:
    """Make past runs' signatures part of this run's bucket stage, as files INDEX_FILE_BASE + seq."""
    from synth.filters.dedup.minhash import INDEX_FILE_BASE

    for bucket in range(buckets):
        folder = Path(sig_folder) / f"bucket_{bucket:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.minhash.sig"):
            if int(stale.name.split(".")[0]) >= INDEX_FILE_BASE:
                stale.unlink()
        for run in runs(index, exclude):
            source = run.path / "minhash" / f"bucket_{bucket:03d}.sig"
            if source.is_file():
                target = folder / f"{INDEX_FILE_BASE + run.seq}.minhash.sig"
                try:
                    target.hardlink_to(source)
                except OSError:  # another filesystem
                    shutil.copyfile(source, target)


class Loaded:
    """Past runs' keys in memory (hashes and embeddings: what an index needs); ids read on demand."""

    def __init__(self, index: Path | None, exclude: str | None, columns: list[str], dim: int = 0):
        import pyarrow.parquet as pq

        self.runs = runs(index, exclude)
        self.offsets = np.cumsum([0] + [r.records for r in self.runs])
        self.by_seq = {r.seq: i for i, r in enumerate(self.runs)}
        self.columns = {c: np.concatenate([np.zeros(0, np.uint64)] + [
            pq.read_table(r.path / "meta.parquet", columns=[c])[c].to_numpy() for r in self.runs]).astype(np.uint64)
            for c in columns}
        parts = [(i, np.fromfile(r.path / "emb.f32", dtype=np.float32).reshape(-1, dim))
                 for i, r in enumerate(self.runs) if dim and (r.path / "emb.f32").is_file()]
        self.emb_rows = np.concatenate([np.zeros(0, np.int64)] + [
            self.offsets[i] + np.arange(len(e)) for i, e in parts])
        self.embeddings = np.concatenate([e for _, e in parts]) if parts else np.zeros((0, dim), np.float32)

    @property
    def size(self) -> int:
        return int(self.offsets[-1])

    def row_of(self, seq: int, doc: np.ndarray) -> np.ndarray:
        return self.offsets[self.by_seq[seq]] + doc

    def labels(self, rows) -> dict[int, str]:
        """'ID (index run SSSSS)' for global index rows."""
        import pyarrow.parquet as pq

        found: dict[int, str] = {}
        wanted = np.unique(np.asarray(list(rows), dtype=np.int64))
        for i, run in enumerate(self.runs):
            mine = wanted[(wanted >= self.offsets[i]) & (wanted < self.offsets[i + 1])]
            if len(mine):
                ids = pq.read_table(run.path / "meta.parquet", columns=["id"])["id"]
                for row in mine:
                    found[int(row)] = f"{ids[int(row - self.offsets[i])].as_py()} (index run {run.path.name})"
        return found


@contextmanager
def locked(index: Path):
    Path(index).mkdir(parents=True, exist_ok=True)
    with open(Path(index) / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(index: Path, key: str, staged: Path, info: dict, wanted: dict) -> str:
    """Move a fully written run folder `staged` into the index as the entry of `key`; returns its name."""
    with locked(index):
        check(index, wanted)
        if not (Path(index) / "index.json").is_file():
            (Path(index) / "index.json").write_text(json.dumps(wanted, indent=1, sort_keys=True) + "\n")
        folder = Path(index) / "runs"
        folder.mkdir(exist_ok=True)
        mine = [p for p in folder.glob(f"*-{key}") if p.is_dir()]
        seqs = [int(p.name.split("-")[0]) for p in folder.iterdir() if p.name[:1].isdigit()]
        seq = int(mine[0].name.split("-")[0]) if mine else max(seqs, default=0) + 1
        (staged / "run.json").write_text(json.dumps({**info, "seq": seq, "key": key}, indent=1, sort_keys=True))
        for old in mine:
            shutil.rmtree(old)
        target = folder / f"{seq:05d}-{key}"
        staged.rename(target)
        return target.name
