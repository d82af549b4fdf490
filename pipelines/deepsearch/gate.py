"""The solvability gate of `generate deepsearch --teacher none` (on by default; `--no-honest-gate` turns it off).

A candidate that passed the rule checks is handed to the honest search solver of `generate trajectories
--teacher none` (pipelines/trajectories/gold.py: it sees only the question and its own tool results) over
the same corpus tools, with the same task id and settings. A candidate none of the solver's variants answers
correctly fails with `not_honestly_solvable` and the item tries another walk, so every kept task has a gold
trajectory the next command can rebuild (same id, same deterministic solver). The gold answer is used only to
judge the solver's final answer, as `generate trajectories` does.

    gate = HonestGate(corpus_dir)
    check = gate.check(task_id, question, answer, aliases)   # {"status": "passed" | "failed", ...}
"""

from __future__ import annotations

SOLVER = "honest search solver (pipelines/trajectories/gold.py, --teacher none)"
REASON = "not_honestly_solvable"
# The gate's call budget per solver variant. Lower than `generate trajectories`' (80) to keep refusals cheap;
# sound, because a run that ends within 40 calls is the very same run under a budget of 80 (no randomness
# steers the search; the seed only words the reasoning).
CALLS = 40


class HonestGate:
    def __init__(self, corpus: str):
        self.corpus = str(corpus)
        self._gold = None

    @property
    def gold(self):
        if self._gold is None:   # opened on first use, in the worker (an open corpus is not picklable)
            from synth.pipelines.trajectories.envtools import EnvTools
            from synth.pipelines.trajectories.gold import GoldConfig, GoldPath

            self._gold = GoldPath(EnvTools(self.corpus), GoldConfig(max_calls=CALLS))
        return self._gold

    def __getstate__(self) -> dict:
        return {"corpus": self.corpus, "_gold": None}

    def check(self, task_id: str, question: str, answer: str, aliases: list[str]) -> dict:
        """The gate's verification entry: passed with the solver run that found the answer, or failed."""
        task = {"id": task_id, "question": question, "answer": answer, "aliases": aliases}
        solved = self.gold.first_solved(task)
        if solved is None:
            return {"status": "failed", "reason": REASON, "solver": SOLVER,
                    "detail": "no variant of the honest search solver answered the question correctly"}
        variant, calls = solved
        return {"status": "passed", "solver": SOLVER, "variant": variant, "calls": calls}
