"""The solver interface the deep-search checks and the dial use.

    async Harness.solve(task, session, tools, k, *, max_turns, tag) -> SolveResult

`task` is a deepsearch_task-like dict (question, answer, aliases), `session` the teacher session of the
current record (synth.teachers.session.Session: every model call and tool result is cached and seeded
under `tag`, so a resumed run replays the same rollouts), `tools` a synth.env.ToolBox over the corpus,
`k` the number of independent rollouts. `SolveResult.pass_rate` is the share of rollouts whose final
answer the rule judge accepts (normalized exact or alias match); teacher.py turns it into the tier.

The implementation is issue 6's agent harness (synth.pipelines.trajectories.solver.TrajectorySolver:
tool-call formats, context policies, resumable turns); anything with this signature can replace it.
A teacher call that fails for good inside `solve` (TeacherError) fails the candidate, not the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from synth.teachers.agent import TEACHER_FAILURE_OF_STOP


@dataclass
class SolveResult:
    pass_rate: float
    answers: list[str | None] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    turns: list[int] = field(default_factory=list)
    tool_calls: list[int] = field(default_factory=list)
    stops: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """What `verification.tool_solver` records (besides status and detail). A rollout the teacher's own
        reply cut short says nothing about the task, so the record names that failure beside the pass rate."""
        out = {"k": len(self.correct), "pass_rate": self.pass_rate, "answers": self.answers,
               "correct": self.correct, "turns": self.turns, "tool_calls": self.tool_calls, "stops": self.stops}
        failures = sorted({TEACHER_FAILURE_OF_STOP[s] for s in self.stops if s in TEACHER_FAILURE_OF_STOP})
        if failures:
            out["teacher_failures"] = failures
        return out


class Harness(Protocol):
    async def solve(self, task: dict, session: Any, tools: Any, k: int, *, max_turns: int,
                    tag: str = "solve") -> SolveResult: ...
