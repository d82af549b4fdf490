"""Run one command as a datatrove pipeline into one output directory, resumably.

    inputs ─pre-pass (validate, count, hash)─▶ source ─▶ steps ─▶ DatasetWriter ─▶ OUT/data, OUT/rejects
                                                                         └─▶ OUT/manifest.json (finalize)

A command builds a `Job` (what to compute) and the CLI a `Runtime` (where/how to run it). `run_job`
refuses an --out made with another resolved config (unless --force), skips finished work, runs the
pipeline on the chosen datatrove executor with a progress bar, and writes the manifest once every task
has finished. Re-running the same command on the same --out resumes.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from synth import manifest as mf
from synth import schemas, state
from synth.dataset import STATE, data_files, expand, iter_rows, require_new_or_dataset
from synth.errors import ConfigChangedError, InputError, UserError

EXECUTORS = ("local", "ray", "slurm")


@dataclass
class Runtime:
    """Where and how to run: never part of the config hash (it does not change the output)."""

    executor: str = "local"
    workers: int = 1
    tasks: int | None = None  # datatrove tasks (output shards); fixed by the first run of an --out
    force: bool = False
    progress: bool = True
    ray_address: str | None = None
    slurm: dict = field(default_factory=dict)  # partition, time, cpus_per_task, mem_per_cpu_gb, sbatch_args


@dataclass
class Job:
    command: str                       # e.g. "generate deepsearch"
    out: Path
    kind: str                          # output record kind (schemas/KIND.schema.json) or "generic"
    config: dict                       # every setting that shapes the output
    inputs: list[str] = field(default_factory=list)
    input_kind: str | None = None      # validate inputs against this kind in the pre-pass
    items: int | None = None           # generators: number of work items (instead of inputs)
    make_item: Callable[[int], dict] | None = None
    steps: list = field(default_factory=list)  # datatrove steps between source and writer
    tail: Callable[[Any], list] | None = None  # writer -> final steps (e.g. an InferenceRunner writing to it)
    chunk_size: int = 256
    fmt: str = "parquet"
    text: Callable[[dict], str] | None = None
    stats: Callable[[Path], dict] | None = None  # extra manifest statistics, computed at finalize


def scan_inputs(inputs: list[str], kind: str | None) -> list[dict]:
    """Validate every input record up front (one clear error before any work) and count/hash inputs."""
    found = []
    for path in inputs:
        records = sum(1 for _ in iter_rows([path], kind))
        kinds = {k for _, k in expand(path)}
        found.append({"path": str(path), "hash": mf.input_hash(Path(path)), "kind": kinds.pop() if len(kinds) == 1 else None,
                      "records": records})
    return found


def _check_owner(out: Path, job: Job, digest: str, force: bool) -> dict | None:
    """The existing state of --out, after refusing a config change unless --force."""
    previous = state.read_json(out / STATE / "state.json")
    if previous is None:
        return None
    if previous.get("command") != job.command:
        raise UserError(f"{out}: --out holds output of 'synth {previous.get('command')}', not 'synth {job.command}'")
    if previous.get("config_hash") != digest and not force:
        raise ConfigChangedError(
            f"{out}: made with a different config (hash {previous.get('config_hash')} != {digest}); "
            "use --force to resume anyway, or another --out")
    return previous


def _make_executor(rt: Runtime, pipeline: list, tasks: int, logs: Path):
    if rt.executor == "local":
        from synth.executors import QuietLocalExecutor

        return QuietLocalExecutor(pipeline, tasks=tasks, workers=min(rt.workers, tasks), logging_dir=str(logs))
    if rt.executor == "ray":
        import ray

        from synth.executors import QuietRayExecutor

        if not ray.is_initialized():
            ray.init(address=rt.ray_address, include_dashboard=False, log_to_driver=False)
        return QuietRayExecutor(pipeline, tasks=tasks, workers=min(rt.workers, tasks), logging_dir=str(logs))
    if rt.executor == "slurm":
        from datatrove.executor.slurm import SlurmPipelineExecutor

        opts = {"time": "24:00:00", "partition": "default", "cpus_per_task": 1, "mem_per_cpu_gb": 2, **rt.slurm}
        return SlurmPipelineExecutor(pipeline, tasks=tasks, logging_dir=str(logs), job_name="synth",
                                     venv_path=os.path.join(sys.prefix, "bin", "activate"), **opts)
    raise UserError(f"--executor must be one of {', '.join(EXECUTORS)}, got {rt.executor!r}")


def _quiet_datatrove() -> None:
    """datatrove logs every step at INFO on stderr; keep that in its per-task log files instead."""
    os.environ.setdefault("LOGURU_LEVEL", "WARNING")
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="ERROR", format="{message}")


def _pipeline(job: Job, total: int, writer) -> list:
    from synth.sources import IndexSource, RecordSource

    text = job.text or __import__("synth.records", fromlist=["record_text"]).record_text
    if job.make_item is not None:
        source = IndexSource(job.out, total, job.chunk_size, job.make_item, text=text)
    else:
        source = RecordSource(job.inputs, job.out, total, job.chunk_size, text=text)
    tail = job.tail(writer) if job.tail else [writer]
    return [source, *job.steps, *tail]


def _run_with_progress(executor, out: Path, total: int, label: str, show: bool) -> None:
    """Run the executor in a thread while the main thread draws progress from the tasks' counters."""
    errors: list[BaseException] = []

    def target():
        try:
            executor.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    worker = threading.Thread(target=target, name="synth-executor", daemon=True)
    worker.start()
    from synth.progress import progress_bar

    with progress_bar(label, total, show) as advance:
        while worker.is_alive():
            worker.join(0.25)
            advance(state.total_progress(out))
        advance(state.total_progress(out))
    if errors:
        raise errors[0]


def _task_error(out: Path) -> UserError | None:
    saved = state.read_json(out / STATE / "error.json")
    return UserError(saved["message"]) if saved else None


def run_job(job: Job, rt: Runtime) -> dict:
    """Run (or resume) a job; returns the summary that `--json` prints."""
    out = Path(job.out)
    require_new_or_dataset(out)
    started = time.time()
    inputs = scan_inputs(job.inputs, job.input_kind)
    digest = mf.config_hash(job.command, job.kind, job.config, [i["hash"] for i in inputs])
    previous = _check_owner(out, job, digest, rt.force)
    total = job.items if job.make_item is not None else sum(i["records"] for i in inputs)
    # Task count and chunk size fix which items land in which shard: the first run's values stay.
    tasks = (previous or {}).get("tasks") or max(1, min(rt.tasks or rt.workers, total or 1))
    job.chunk_size = (previous or {}).get("chunk_size") or job.chunk_size
    (out / STATE).mkdir(parents=True, exist_ok=True)
    (out / STATE / "error.json").unlink(missing_ok=True)
    state.write_json_atomic(out / STATE / "state.json", {
        "command": job.command, "kind": job.kind, "config_hash": digest, "tasks": tasks, "chunk_size": job.chunk_size,
        "started": (previous or {}).get("started") or _now()})

    from synth.writer import DatasetWriter

    _quiet_datatrove()
    writer = DatasetWriter(out, job.kind, job.fmt)
    executor = _make_executor(rt, _pipeline(job, total, writer), tasks, out / STATE / "logs")
    try:
        _run_with_progress(executor, out, total, job.command, rt.progress and rt.executor != "slurm")
    except (UserError, InputError):
        raise
    except Exception as exc:
        raise _task_error(out) or exc
    if rt.executor == "slurm":
        return {"command": job.command, "out": str(out), "status": "submitted", "tasks": tasks,
                "job_id": getattr(executor, "job_id", None),
                "next": "re-run the same command once the Slurm job has finished to write manifest.json"}
    incomplete = executor.get_incomplete_ranks(range(tasks), skip_completed=True)
    if incomplete:
        raise _task_error(out) or RuntimeError(
            f"{len(incomplete)} of {tasks} tasks did not finish; see {out / STATE / 'logs'}; re-run to resume")
    return _finalize(job, rt, out, inputs, digest, tasks, started)


def _finalize(job: Job, rt: Runtime, out: Path, inputs: list[dict], digest: str, tasks: int, started: float) -> dict:
    counts = mf.summarize_markers(out)
    usage = counts.pop("usage")
    files = data_files(out)
    fields = {
        "synth_version": mf.synth_version(), "command": job.command, "kind": job.kind, "status": "complete",
        "config": mf.redact(job.config), "config_hash": digest, "inputs": inputs, "counts": counts,
        "tokens": {k: int(v) for k, v in sorted(usage.items())},
        "timings": {"started": (state.read_json(out / STATE / "state.json") or {}).get("started", _now()),
                    "finished": _now(), "seconds": round(time.time() - started, 3)},
        "executor": {"type": rt.executor, "tasks": tasks, "workers": rt.workers},
        "versions": mf.versions(), "output_hash": mf.hash_files(files),
        "files": [f"data/{p.name}" for p in files],
        "stats": job.stats(out) if job.stats else {},
    }
    mf.write_manifest(out, fields)
    mf.write_dataset_card(out, job.command, job.kind, job.fmt)
    return {"command": job.command, "out": str(out), "status": "complete", "kind": job.kind,
            "counts": counts, "tokens": fields["tokens"], "seconds": fields["timings"]["seconds"],
            "manifest": str(out / "manifest.json")}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def known_kind(kind: str) -> str:
    if kind != schemas.GENERIC and kind not in schemas.kinds():
        raise UserError(f"unknown record kind {kind!r}; known: {', '.join(schemas.kinds())}, generic")
    return kind
