"""Run one command as a datatrove pipeline into one output directory, resumably.

    inputs ─pre-pass (validate, count, hash)─▶ source ─▶ steps ─▶ DatasetWriter ─▶ OUT/data, OUT/rejects
                                                                         └─▶ OUT/manifest.json (finalize)

A command builds a `Job` (what to compute) and the CLI a `Runtime` (where/how to run it). `run_job`
refuses an --out made with another resolved config (--force starts it again from scratch), skips finished work, runs the
pipeline on the chosen datatrove executor with a progress bar, and writes the manifest once every task
has finished. Re-running the same command on the same --out resumes.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from synth import manifest as mf
from synth import rerun, schemas, state
from synth.dataset import STATE, data_files, expand, iter_rows, require_new_or_dataset
from synth.errors import EXIT_CAPPED, InputError, UserError

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
    dry_run: bool = False     # project the run (items, teacher requests, tokens, cost); send and write nothing
    pilot: int = 0            # dry run measured on this many real records (in a temporary folder)


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
    tail: Callable[[Any, int], list] | None = None  # (writer, chunk_size) -> final steps (an InferenceRunner);
    # optional tail methods: project(job, docs, total, rt) -> dict (for --dry-run), report(out) -> dict (summary)
    skip_done: bool = True             # False when the tail skips finished chunks itself (see synth.sources)
    chunk_size: int = 256
    fmt: str = "parquet"
    text: Callable[[dict], str] | None = None
    stats: Callable[[Path], dict] | None = None  # extra manifest statistics, computed at finalize
    stages: list[Stage] = field(default_factory=list)  # global passes that finish before the main pipeline


@dataclass
class Stage:
    """A pass over ALL items that must finish before the main pipeline starts (e.g. dedup: signatures,
    clusters, keep/drop decisions need every record first). It is a datatrove pipeline on the job's
    executor with its own logging dir, OUT/.synth/stages/NAME/logs, whose completion files make it resume
    task by task; it writes what later stages and the main pipeline's steps read under `ctx.dir`."""

    name: str
    build: Callable[[StageContext], list]  # -> the stage's datatrove steps (built in the driver)
    tasks: int | None = None                 # None: the main pipeline's task count (same item ranges)
    progress: bool = False                   # its steps write item counts to ctx.progress_dir()


@dataclass
class StageContext:
    out: Path
    dir: Path                   # OUT/.synth/stages/NAME: this stage's files and datatrove logs
    total: int                  # items (input records or generator items), positions 0..total-1
    tasks: int                  # the main pipeline's task count
    config_hash: str
    job: Job

    def stage_dir(self, name: str) -> Path:
        return self.out / STATE / "stages" / name

    def progress_dir(self) -> Path:
        """Steps write `RRRRR` files with their item count here; the engine draws them as progress."""
        return self.dir / "progress"

    def source(self):
        """The job's pipeline head with the same positions/ranges as the main pipeline, skipping nothing."""
        from synth.sources import IndexSource, RecordSource

        text = self.job.text or __import__("synth.records", fromlist=["record_text"]).record_text
        if self.job.make_item is not None:
            return IndexSource(self.out, self.total, self.job.chunk_size, self.job.make_item, text=text, skip_done=False)
        return RecordSource(self.job.inputs, self.out, self.total, self.job.chunk_size, text=text, skip_done=False)


def scan_inputs(inputs: list[str], kind: str | None) -> list[dict]:
    """Validate every input record up front (one clear error before any work) and count/hash inputs."""
    found = []
    for path in inputs:
        records = sum(1 for _ in iter_rows([path], kind))
        kinds = {k for _, k in expand(path)}
        found.append({"path": str(path), "hash": mf.input_hash(Path(path)), "kind": kinds.pop() if len(kinds) == 1 else None,
                      "records": records})
    return found


def _check_owner(out: Path, job: Job, digest: str, rt: Runtime, inputs: list[dict]) -> dict | None:
    """The existing state of --out: refused on a config change (naming the flags that differ), or moved
    aside to OUT.old-* by --force so the run starts from scratch (never on a dry run, which writes nothing)."""
    previous = state.read_json(out / STATE / "state.json")
    if previous is None:
        return None
    if previous.get("command") != job.command:
        raise UserError(f"{out}: --out holds output of 'synth {previous.get('command')}', not 'synth {job.command}'")
    if rt.force and not rt.dry_run:
        rerun.start_afresh(out)
        return None
    if previous.get("config_hash") != digest:
        raise rerun.refuse_changed(out, previous, rerun.recorded(job.config), inputs, digest)
    return previous


def _make_executor(rt: Runtime, pipeline: list, tasks: int, logs: Path, depends=None):
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
                                     venv_path=os.path.join(sys.prefix, "bin", "activate"), depends=depends, **opts)
    raise UserError(f"--executor must be one of {', '.join(EXECUTORS)}, got {rt.executor!r}")


def _quiet_datatrove() -> None:
    """datatrove logs every step at INFO on stderr; keep that in its per-task log files instead."""
    os.environ.setdefault("LOGURU_LEVEL", "WARNING")
    import datatrove.utils.logging as datatrove_logging
    from loguru import logger

    def errors_only() -> None:
        logger.remove()
        logger.add(sys.stderr, level="ERROR", format="{message}")

    # datatrove re-installs a DEBUG-level stderr handler after every task (close_task_logger); with several
    # executors per run (Job.stages) or loguru imported before LOGURU_LEVEL was set, that would print
    # each executor's stats table. Its default handler becomes ours.
    datatrove_logging.setup_default_logger = errors_only
    errors_only()


def _pipeline(job: Job, total: int, writer) -> list:
    from synth.sources import IndexSource, RecordSource

    text = job.text or __import__("synth.records", fromlist=["record_text"]).record_text
    if job.make_item is not None:
        source = IndexSource(job.out, total, job.chunk_size, job.make_item, text=text, skip_done=job.skip_done)
    else:
        source = RecordSource(job.inputs, job.out, total, job.chunk_size, text=text, skip_done=job.skip_done)
    tail = job.tail(writer, job.chunk_size) if job.tail else [writer]
    return [source, *job.steps, *tail]


def _run_with_progress(executor, out: Path, total: int, label: str, show: bool, progress: Path | None = None) -> None:
    """Run the executor in a thread while the main thread draws progress from the tasks' counters
    (the writer's under OUT/.synth/progress, or a stage's `progress` folder)."""
    errors: list[BaseException] = []

    def target():
        try:
            executor.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    worker = threading.Thread(target=target, name="synth-executor", daemon=True)
    worker.start()
    from synth.progress import progress_bar

    folder = progress or state.state_dir(out) / "progress"
    with progress_bar(label, total, show) as advance:
        while worker.is_alive():
            worker.join(0.25)
            advance(state.sum_progress(folder))
        advance(state.sum_progress(folder))
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
    previous = _check_owner(out, job, digest, rt, inputs)
    total = job.items if job.make_item is not None else sum(i["records"] for i in inputs)
    # Task count and chunk size fix which items land in which shard: the first run's values stay.
    tasks = (previous or {}).get("tasks") or max(1, min(rt.tasks or rt.workers, total or 1))
    job.chunk_size = (previous or {}).get("chunk_size") or job.chunk_size
    if rt.dry_run:  # before anything is written
        from synth.dryrun import dry_run

        return dry_run(job, rt, total, tasks)
    (out / STATE).mkdir(parents=True, exist_ok=True)
    # One writer per --out: a second concurrent run would delete the first one's uncommitted chunks
    # (DatasetWriter.start) and both would commit the same chunks. It exits 2 naming the holder's pid.
    with state.writer_lock(out):
        return _run_locked(job, rt, out, inputs, digest, previous, total, tasks, started)


def _run_locked(job: Job, rt: Runtime, out: Path, inputs: list[dict], digest: str, previous: dict | None,
                total: int, tasks: int, started: float) -> dict:
    (out / STATE / "error.json").unlink(missing_ok=True)
    if previous is not None:  # resuming: committed chunks must still be what their markers certify
        from synth.repair import repair_output

        for note in repair_output(out, total, tasks, job.chunk_size):
            print(f"warning: {note}", file=sys.stderr, flush=True)
    state.clear_stopped(out, out / STATE / "logs" / "completions")  # tasks stopped by a cap run again
    state.write_json_atomic(out / STATE / "state.json", {
        "command": job.command, "kind": job.kind, "config_hash": digest, "tasks": tasks, "chunk_size": job.chunk_size,
        **rerun.state_fields(job.config, inputs), "started": (previous or {}).get("started") or _now()})

    from synth.writer import DatasetWriter

    _quiet_datatrove()
    depends = _run_stages(job, rt, out, total, tasks, digest)
    writer = DatasetWriter(out, job.kind, job.fmt)
    executor = _make_executor(rt, _pipeline(job, total, writer), tasks, out / STATE / "logs", depends)
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
    stopped = state.stopped_tasks(out)
    if stopped:
        return _stopped(job, out, tasks, stopped, started)
    return _finalize(job, rt, out, inputs, digest, tasks, started)


def _stopped(job: Job, out: Path, tasks: int, stopped: list[dict], started: float) -> dict:
    """Summary of a run whose tasks stopped early on purpose (a spending cap): no manifest (a manifest means
    complete), finished chunks kept, exit status EXIT_CAPPED so scripts and CI can tell it apart."""
    counts = mf.summarize_markers(out)
    usage = counts.pop("usage")
    reason = stopped[0].get("reason") or "stopped"
    return {"command": job.command, "out": str(out), "status": reason, "exit_code": EXIT_CAPPED,
            "message": stopped[0].get("message"), "stopped_tasks": f"{len(stopped)} of {tasks}",
            "counts": counts, "tokens": {k: int(v) for k, v in sorted(usage.items())}, **_tail_report(job, out),
            "seconds": round(time.time() - started, 3)}


def _tail_report(job: Job, out: Path) -> dict:
    report = getattr(job.tail, "report", None)
    return report(out) if callable(report) else {}


def _run_stages(job: Job, rt: Runtime, out: Path, total: int, tasks: int, digest: str):
    """Run the job's stages in order, each to completion (finished tasks are skipped on a re-run).
    On Slurm they are submitted as a chain of dependent jobs; the last one is returned for the main job."""
    previous = None
    for stage in job.stages:
        ctx = StageContext(out=out, dir=out / STATE / "stages" / stage.name, total=total, tasks=tasks,
                           config_hash=digest, job=job)
        ctx.dir.mkdir(parents=True, exist_ok=True)
        count = stage.tasks or tasks
        executor = _make_executor(rt, stage.build(ctx), count, ctx.dir / "logs", previous)
        if rt.executor == "slurm":
            previous = executor
            continue
        try:
            _run_with_progress(executor, out, total if stage.progress else None, f"{job.command}: {stage.name}",
                               rt.progress, progress=ctx.progress_dir())
        except (UserError, InputError):
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised as the failed task's own error when one was recorded
            raise _task_error(out) or exc
        if executor.get_incomplete_ranks(range(count), skip_completed=True):
            raise _task_error(out) or RuntimeError(
                f"stage {stage.name} did not finish; see {ctx.dir / 'logs'}; re-run to resume")
    return previous


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
        "files": [f"data/{p.name}" for p in files], "shards": mf.certify_shards(out, files),
        "stats": job.stats(out) if job.stats else {},
    }
    mf.write_manifest(out, fields)
    mf.write_dataset_card(out, job.command, job.kind, job.fmt)
    return {"command": job.command, "out": str(out), "status": "complete", "kind": job.kind,
            "counts": counts, "tokens": fields["tokens"], **_tail_report(job, out),
            "seconds": fields["timings"]["seconds"], "manifest": str(out / "manifest.json")}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def known_kind(kind: str) -> str:
    if kind != schemas.GENERIC and kind not in schemas.kinds():
        raise UserError(f"unknown record kind {kind!r}; known: {', '.join(schemas.kinds())}, generic")
    return kind
