"""datatrove executors that keep a task's INFO chatter in its log file instead of the user's terminal.

datatrove prints INFO logs of the task with local_rank 0 on stderr; `local_rank` is used for nothing
else, so shifting it keeps stderr for errors while every task still logs in full to
OUT/.synth/logs/logs/task_NNNNN.log.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from copy import deepcopy

import multiprocess
from datatrove.executor import LocalPipelineExecutor
from datatrove.utils.logging import logger
from datatrove.utils.stats import PipelineStats

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class _QuietTasks:
    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        _install_task_logger()
        return super()._run_for_rank(rank, local_rank=local_rank + 1, node_rank=node_rank)


class _TolerantLog:
    """A task log file that a full disk cannot turn into loguru's 30-line "Logging error" report on stderr:
    the task's own error (the same ENOSPC) is reported as one line by the CLI (synth.resources)."""

    def __init__(self, fh):
        self.fh = fh

    def write(self, message: str) -> None:
        try:
            self.fh.write(message)
            self.fh.flush()
        except OSError:
            pass


def _install_task_logger() -> None:
    """datatrove's task logger also prints a failed task's traceback on stderr; synth reports a failed task
    as one line (a worker's UserError, e.g. an unusable teacher, must exit 2 with just that line), and the
    traceback stays in the task's log file. Same sinks as datatrove's, minus that one record on stderr."""
    import sys

    from datatrove.executor import base
    from loguru import logger

    def add_task_logger(logging_dir, rank: int, local_rank: int = 0, node_rank: int = -1):
        logger.remove()
        logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
        prefix = f"[NODE {node_rank}] " if node_rank != -1 else ""
        fmt = f"{prefix}{{time:YYYY-MM-DD HH:mm:ss.SSS}} | {{level: <8}} | {{name}}:{{function}}:{{line}} - {{message}}"
        logger.add(sys.stderr, level="INFO" if local_rank == 0 else "ERROR", format=fmt,
                   filter=lambda record: record["function"] != "_run_for_rank")
        logger.add(_TolerantLog(logfile), level="DEBUG", format=fmt, colorize=False)
        logger.info(f"Launching pipeline for {rank=}")
        return logfile

    base.add_task_logger = add_task_logger


class QuietLocalExecutor(_QuietTasks, LocalPipelineExecutor):
    """datatrove's local executor without its `multiprocess.Manager` process.

    datatrove's `run()` starts a Manager (a server process that only hands out logging ranks) even for one
    worker; it does not watch its parent, so a SIGKILLed `synth` left it running forever. Here one worker
    runs its tasks inline, and several run in a pool whose processes the kernel kills with their parent.
    Completion files, per-task stats and the merged stats.json are written exactly as datatrove does.
    """

    def __init__(self, *args, start_method: str = "spawn", **kwargs):
        # spawn, not datatrove's forkserver: a fork server's workers are its children, and it outlives the
        # synth process for as long as they live (they hold its "alive" pipe), so their parent never dies.
        super().__init__(*args, start_method=start_method, **kwargs)

    def run(self):
        if self.depends:  # synth chains its stages itself; anything else keeps datatrove's path
            return super().run()
        self._launched = True
        ranks = range(self.local_rank_offset, self.local_rank_offset + self.local_tasks)
        if all(map(self.is_rank_completed, ranks)):
            logger.info(f"Not doing anything as all {self.local_tasks} tasks have already been completed.")
            return None
        self.save_executor_as_json()
        todo = self.get_incomplete_ranks(ranks)
        if self.workers == 1:
            pipeline, stats = self.pipeline, []
            for rank in todo:
                self.pipeline = deepcopy(pipeline)  # a fresh copy per task, as datatrove does
                stats.append(self._run_for_rank(rank))
        else:
            ctx = multiprocess.get_context(self.start_method)
            with ctx.Pool(self.workers, initializer=die_with_parent) as pool:
                stats = list(pool.imap_unordered(self._run_for_rank, todo))
        merged = sum(stats, start=PipelineStats())
        with self.logging_dir.open("stats.json", "wt") as fh:
            merged.save_to_disk(fh)
        logger.success(merged.get_repr(f"All {self.local_tasks} tasks"))
        return merged


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux PR_SET_PDEATHSIG).

    Pool workers are children of the synth process (spawn start method): when it dies they follow, instead
    of writing into --out as orphans next to the run that resumes it."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def __getattr__(name: str):
    # Ray is optional: define the Ray flavour only when asked for.
    if name == "QuietRayExecutor":
        from datatrove.executor.ray import RayPipelineExecutor

        cls = type("QuietRayExecutor", (_QuietTasks, RayPipelineExecutor), {"__module__": __name__})
        globals()[name] = cls  # one class object, so pickle finds the same one by name
        return cls
    raise AttributeError(name)
