"""What `synth run` remembers between runs, and the decision it makes for each stage.

The state is one JSON file in the pipeline's workdir (`.synth-run.json`, written atomically after every
change), plus a lock file so that two runs never share a workdir. Per stage it keeps

    attempt: {key, inputs}                 the last start (inputs hashed before the run)
    ok:      {key, inputs, output_hash}    the last success (inputs hashed after it; dropped on a new attempt)

`key` hashes the stage's resolved command (vars filled in, `${stages.X.out}` symbolic, runtime flags
such as --workers left out); `inputs` maps every existing path among its values (upstream outputs, seed
files, --config files) to its hash: a synth dataset's manifest `output_hash`, else the bytes (with a
size+mtime cache, so a cached re-run does not re-read a large dump). Then:

    cached  ok.key == key, ok.inputs == inputs and the output is still there with ok.output_hash
    resume  attempt.key == key and attempt.inputs == inputs: the command's own resume finishes it
    fresh   anything else; an output this pipeline made before is removed first (the command would
            otherwise refuse the changed config), never a folder it did not make

Inputs are hashed again after a success, so a path that a stage both reads and updates (a persistent
dedup index, a report file) does not make the next run miss the cache. A downstream stage re-runs when
an upstream *output* changes; an upstream re-run that rebuilds identical data leaves it cached.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from synth import manifest as mf
from synth import state
from synth.dataset import is_dataset_dir, read_manifest
from synth.errors import UserError
from synth.run.argv import Plan
from synth.run.file import Pipeline

VERSION = 1


class RunState:
    """The `.synth-run.json` of a workdir."""

    def __init__(self, path: Path):
        self.path = path
        data = state.read_json(path) or {}
        self.data = data if data.get("version") == VERSION else {"version": VERSION, "stages": {}, "hashes": {}}

    def stage(self, name: str) -> dict:
        return self.data["stages"].get(name, {})

    def save(self) -> None:
        state.write_json_atomic(self.path, self.data)

    def attempt(self, name: str, key: str, inputs: dict, out: Path | None) -> None:
        self.data["stages"][name] = {"out": _str(out), "status": "running", "started": _now(),
                                     "attempt": {"key": key, "inputs": inputs}}
        self.save()

    def finish(self, name: str, key: str, inputs: dict, output_hash: str | None, seconds: float) -> None:
        record = self.data["stages"][name]
        record.update(status="ok", exit_code=0, error=None, finished=_now(), seconds=seconds,
                      ok={"key": key, "inputs": inputs, "output_hash": output_hash})
        self.save()

    def fail(self, name: str, exit_code: int, error: str | None, seconds: float, status: str = "failed") -> None:
        """A stage that stopped before finishing (failed, or capped by a budget): the next run resumes it."""
        self.data["stages"][name].update(status=status, exit_code=exit_code, error=error, finished=_now(),
                                         seconds=seconds)
        self.save()


def spec_key(plan: Plan) -> str:
    return mf.hash_bytes(mf.canonical(plan.spec))


def input_paths(pipeline: Pipeline, plan: Plan) -> list[Path]:
    """Existing paths among the stage's values, except its own output and folders holding the workdir."""
    found: dict[str, Path] = {}
    for value in plan.values:
        if not value or "\n" in value or "://" in value:
            continue
        path = (pipeline.base / value).resolve()
        try:
            if not path.exists():
                continue
        except OSError:  # a value too long or odd to be a path
            continue
        holds_outputs = pipeline.workdir.is_relative_to(path) or (plan.out and plan.out.is_relative_to(path))
        if holds_outputs or (plan.out and path.is_relative_to(plan.out)):
            continue
        found[str(path)] = path
    return list(found.values())


def hash_paths(paths: list[Path], run_state: RunState) -> dict[str, str]:
    return {str(p): path_hash(p, run_state) for p in paths}


def path_hash(path: Path, run_state: RunState) -> str:
    """A dataset's manifest output_hash; other paths by content, reusing the hash while size+mtimes hold."""
    manifest = read_manifest(path) if is_dataset_dir(path) else None
    if manifest and manifest.get("output_hash"):
        return manifest["output_hash"]
    cache = run_state.data.setdefault("hashes", {})
    signature = _signature(path)
    known = cache.get(str(path))
    if known and known.get("signature") == signature:
        return known["hash"]
    digest = mf.input_hash(path)
    cache[str(path)] = {"signature": signature, "hash": digest}
    return digest


def _signature(path: Path) -> str:
    if path.is_file():
        stat = path.stat()
        return f"{stat.st_size}:{stat.st_mtime_ns}"
    parts = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        parts.append(f"{file.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}")
    return mf.hash_bytes("\n".join(parts).encode())


def decide(record: dict, key: str, inputs: dict, plan: Plan, run_state: RunState) -> str:
    """cached | resume | fresh (see the module docstring)."""
    ok = record.get("ok")
    same = bool(ok) and ok.get("key") == key and ok.get("inputs") == inputs and record.get("out") == _str(plan.out)
    if same and (plan.out is None or (plan.out.exists() and path_hash(plan.out, run_state) == ok.get("output_hash"))):
        return "cached"
    attempt = record.get("attempt") or {}
    same_out = record.get("out") == _str(plan.out)
    if same_out and attempt.get("key") == key and attempt.get("inputs") == inputs:
        return "resume"
    return "fresh"


def clear_output(pipeline: Pipeline, record: dict, plan: Plan) -> bool:
    """Remove a stale output that this pipeline made (its record names this very path)."""
    out = plan.out
    if out is None or not out.exists() or record.get("out") != str(out):
        return False
    if pipeline.path.is_relative_to(out) or pipeline.workdir.is_relative_to(out) or out == Path(out.anchor):
        raise UserError(f"stage '{plan.stage.name}': refusing to delete {out}: it holds the pipeline or its workdir")
    shutil.rmtree(out)
    return True


@contextmanager
def workdir_lock(workdir: Path) -> Iterator[None]:
    """One `synth run` per workdir at a time (two would resume the same outputs at once)."""
    workdir.mkdir(parents=True, exist_ok=True)
    fd = os.open(workdir / ".synth-run.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"{workdir}: another 'synth run' is using this workdir; wait for it to finish") from None
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process dies


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
