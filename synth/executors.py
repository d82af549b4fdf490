"""datatrove executors that keep a task's INFO chatter in its log file instead of the user's terminal.

datatrove prints INFO logs of the task with local_rank 0 on stderr; `local_rank` is used for nothing
else, so shifting it keeps stderr for errors while every task still logs in full to
OUT/.synth/logs/logs/task_NNNNN.log.
"""

from __future__ import annotations

from datatrove.executor import LocalPipelineExecutor


class _QuietTasks:
    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        return super()._run_for_rank(rank, local_rank=local_rank + 1, node_rank=node_rank)


class QuietLocalExecutor(_QuietTasks, LocalPipelineExecutor):
    pass


def __getattr__(name: str):
    # Ray is optional: define the Ray flavour only when asked for.
    if name == "QuietRayExecutor":
        from datatrove.executor.ray import RayPipelineExecutor

        cls = type("QuietRayExecutor", (_QuietTasks, RayPipelineExecutor), {"__module__": __name__})
        globals()[name] = cls  # one class object, so pickle finds the same one by name
        return cls
    raise AttributeError(name)
