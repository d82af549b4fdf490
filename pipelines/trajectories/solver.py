"""The deep-search tool-using solver on this harness (the `Harness` protocol of pipelines/deepsearch/harness.py).

    result = await TrajectorySolver(turn_params).solve(task, session, toolbox, k, max_turns=12, tag="solve")

k rollouts of the agent harness (native tools with <tool_call> text as fallback, a context policy, the
environment's search/open/visit tools) inside the caller's teacher session, judged by the answer judge's rule (normalized exact / alias).
`result.pass_rate` is what the deep-search gauntlet turns into a difficulty tier.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from synth.pipelines.trajectories.envtools import TOOLS, tool_function
from synth.pipelines.trajectories.harness import Harness, HarnessConfig
from synth.pipelines.trajectories.judge import match
from synth.pipelines.trajectories.messages import final_answer, tool_call_count
from synth.pipelines.trajectories.policies import Policy


@dataclass
class TrajectorySolver:
    turn_params: dict = field(default_factory=dict)   # e.g. a structured-output regex for tiny test models
    policy: Policy = field(default_factory=lambda: Policy("keep_last_k", 5))
    tool_format: str = "openai"   # native `tools`; <tool_call> text is parsed when the server does not

    async def solve(self, task: dict, session, tools, k: int, *, max_turns: int, tag: str = "solve"):
        import threading

        from synth.pipelines.deepsearch.harness import SolveResult

        lock = threading.Lock()
        functions = {name: tool_function(tools, name, lock) for name in TOOLS if name in tools.tools}
        specs = [s for s in tools.schemas() if s["function"]["name"] in functions]
        harness = Harness(HarnessConfig(max_turns, self.policy, self.tool_format, dict(self.turn_params)),
                          functions, specs)
        runs = await asyncio.gather(*(harness.rollout(session, task["question"], tag=f"{tag}{i}") for i in range(k)))
        answers = [final_answer(r.messages) if r.stop == "answer" else None for r in runs]
        correct = [bool(match(a, task["answer"], task.get("aliases"), task["question"]).correct) for a in answers]
        return SolveResult(sum(correct) / k if k else 0.0, answers, correct, [r.turns for r in runs],
                           [tool_call_count(r.messages) for r in runs], [r.stop for r in runs])
