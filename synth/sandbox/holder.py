"""A task object that owns one sandbox, opened lazily in the worker that runs it.

Tasks are pickled to datatrove workers (forked or on Ray): the sandbox (processes, pipes) and its lock must
never travel in the pickle. Code generation with a teacher (pipelines/code/teacher_task.py) and the code
eval (pipelines/eval/code.py) both hold one; their `config` has `sandbox` and `sandbox_workers`.
"""

from __future__ import annotations

import threading

_LIVE = ("_box", "_lock")  # what exists only in the worker


class SandboxHolder:
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in _LIVE}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def box(self):
        """The task's sandbox, opened on first use (rollout threads share it)."""
        with self.__dict__.setdefault("_lock", threading.Lock()):  # dict.setdefault is atomic under the GIL
            if self.__dict__.get("_box") is None:
                from synth.sandbox import Sandbox

                self._box = Sandbox(backend=self.config.sandbox, workers=self.config.sandbox_workers)
            return self._box
