"""`synth eval code`: the evaluated model answers held-out code problems; the sandbox scores every answer.

The prompt is the one `synth train --mode grpo --task code` shows the policy (trainers/rl/tasks.py:
`code_messages`), so eval and RL measure the same thing. Each completion is scored with the code pipeline's
reward API (`pipelines/code/reward.py`): R = R_format + R_correct (+ R_time iff every test passes, the gated
complexity-aware reward). A sample *passes* when every test passes; pass@1 is the mean over problems of
passing samples / samples. Scoring runs in the teacher session's tool pool through `session.tool`, so a
resumed run replays finished scores from the request cache instead of re-running the sandbox.
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass

from synth.sandbox.holder import SandboxHolder
from synth.teachers.errors import TeacherError
from synth.teachers.tasks import Dropped, TeacherTask

COMMAND = "eval code"


@dataclass(frozen=True)
class CodeEvalConfig:
    samples: int = 1
    format_weight: float = 1.0
    correct_weight: float = 1.0
    time_weight: float = 1.0
    all_or_nothing: bool = False
    sandbox: str | None = None       # bwrap | unshare | rlimits | None (the strongest that works)
    sandbox_workers: int = 2


class CodeEval(SandboxHolder, TeacherTask):
    name = COMMAND

    def __init__(self, config: CodeEvalConfig, provenance: dict):
        self.config, self.provenance = config, provenance
        self.parallel_calls = max(1, config.samples)

    async def run(self, problem: dict, session):
        from synth.trainers.rl.tasks import code_messages

        messages = code_messages(problem)
        samples = await asyncio.gather(*(self._sample(session, problem, messages, k)
                                         for k in range(self.config.samples)))
        if all(s.get("error") for s in samples):  # an outage (endpoint or sandbox), not the model's answer
            return Dropped(samples[0]["error"], "no sample could be generated and scored",
                           record={"id": problem["id"], "item_id": problem["id"]})
        return code_record(problem, list(samples), self.provenance)

    async def _sample(self, session, problem: dict, messages: list[dict], k: int) -> dict:
        try:
            reply = await session.chat(messages, tag=f"s{k}")
        except TeacherError as exc:
            return {"sample": k, "passed": False, "error": exc.reason}
        sample = {"sample": k, "completion": reply.text or "", "finish_reason": reply.finish_reason}
        try:
            scored = await session.tool(functools.partial(self._score, problem), reply.text or "", name="reward",
                                        tag=f"s{k}/reward")
        except RuntimeError as exc:  # the sandbox itself failed: not the completion's fault
            return {**sample, "passed": False, "error": "sandbox_infra_error", "format_error": str(exc)[:300]}
        return {**sample, **scored}

    def _score(self, problem: dict, completion: str) -> dict:
        from synth.pipelines.code.reward import RewardConfig, reward

        c = self.config
        cfg = RewardConfig(format_weight=c.format_weight, correct_weight=c.correct_weight,
                           time_weight=c.time_weight, all_or_nothing=c.all_or_nothing)
        result = reward(problem, completion, cfg, self.box())
        d = result["details"]
        return {"passed": bool(d["tests"]) and d["passed"] == d["tests"], "format": result["format"],
                "correctness": result["correctness"], "time": result["time"], "total": result["total"],
                "tests_passed": d["passed"], "tests": d["tests"], "verdicts": d["verdicts"],
                "completion_class": d["completion_class"], "format_error": d["format_error"]}


def failure_of(samples: list[dict]) -> str | None:
    """None when a sample passed; else error (no sample could be scored), format (no sample held runnable
    code) or wrong_answer (code ran but some test failed)."""
    if any(s["passed"] for s in samples):
        return None
    scored = [s for s in samples if not s.get("error")]
    if not scored:
        return "error"
    return "wrong_answer" if any((s.get("format") or 0) > 0 for s in scored) else "format"


def code_record(problem: dict, samples: list[dict], provenance: dict) -> dict:
    passed = sum(1 for s in samples if s["passed"])
    scored = [s for s in samples if not s.get("error")]
    means = {k: round(sum(float(s.get(k) or 0) for s in scored) / len(scored), 4) if scored else 0.0
             for k in ("format", "correctness", "time", "total")}
    return {
        "id": str(problem["id"]), "suite": "code", "item_id": str(problem["id"]), "model": provenance.get("model"),
        "question": problem.get("prompt"), "category": _complexity(problem).get("class"),
        "samples": samples, "passed": passed, "score": round(passed / len(samples), 6) if samples else 0.0,
        "failure": failure_of(samples), "reward": means, "provenance": provenance,
    }


def _complexity(problem: dict) -> dict:
    value = problem.get("complexity")
    return (json.loads(value) if isinstance(value, str) else value) or {}
