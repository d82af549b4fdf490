"""`synth eval deepsearch`: the evaluated model runs the agent harness on held-out deep-search tasks.

The rollouts are exactly those of `synth generate trajectories --teacher SPEC` (TrajectoryTask, the same
harness, tools, tool-call format, context policy and answer extraction) with nothing filtered: every rollout
is a sample of the eval record, judged by the rule judge (normalized exact match or an alias; an LLM judge
would let one model grade another's paraphrases, which is a different measurement). A rollout that could not
be run because the endpoint failed for good (teacher_* after retries) is a sample with `error`; a task whose
every rollout failed that way is a reject with the teacher's reason, so a resume retries it and accuracy is
never computed over an outage. One exception: the engine refusing a prompt for its length (HTTP 400 naming the
context length) ends that rollout as `context_exceeded`, a failure of the model like running out of turns
(its partial trajectory is not kept: the teacher layer drops a failed rollout whole).
"""

from __future__ import annotations

import re
from collections import Counter

from synth.pipelines.trajectories.generate import GenSettings, TrajectoryTask

from synth.teachers.tasks import Dropped, TeacherTask

COMMAND = "eval deepsearch"
# Why an item failed, from the stop of its rollouts (an answer that is wrong vs. no answer at all).
FAILURE_OF_STOP = {"answer": "wrong_answer", "max_turns": "no_answer", "truncated": "truncated",
                   "context_exceeded": "context_exceeded", "error": "error"}
# The engine refusing a prompt for its length is the model's limit, not an outage: the rollout failed.
CONTEXT_OVERFLOW = re.compile(r"context length|maximum model length|max_model_len|too long", re.IGNORECASE)


class DeepSearchEval(TeacherTask):
    name = COMMAND

    def __init__(self, corpus: str, settings: GenSettings, tools: tuple[str, ...], save_messages: bool,
                 provenance: dict):
        self.rollouts = TrajectoryTask(corpus, settings, tools)
        self.parallel_calls = self.rollouts.parallel_calls
        self.save_messages, self.provenance = save_messages, provenance

    def docs_in_flight(self, max_concurrency: int) -> int:
        return self.rollouts.docs_in_flight(max_concurrency)

    async def run(self, task: dict, session):
        results = await self.rollouts.run(task, session)
        samples = sorted((self._sample(r) for r in results), key=lambda s: s["sample"])
        if samples and all(s.get("error") for s in samples):
            first = next(r for r in results if isinstance(r, Dropped))
            return Dropped(first.reason, first.detail, raw=first.raw, record={"id": task["id"], "item_id": task["id"]})
        return eval_record(task, samples, self.provenance)

    def _sample(self, result) -> dict:
        if isinstance(result, Dropped):
            rid = str((result.record or {}).get("id") or "#r0")
            sample = {"sample": int(rid.rsplit("#r", 1)[-1]), "passed": False, "turns": 0, "tool_calls": 0}
            if result.reason == "teacher_bad_request" and CONTEXT_OVERFLOW.search(result.detail or ""):
                return {**sample, "stop": "context_exceeded", "judge_reason": (result.detail or "")[:300]}
            return {**sample, "stop": "error", "error": result.reason}
        meta, verdict = result.get("metadata") or {}, result.get("judgement") or {}
        sample = {"sample": int(meta.get("rollout") or 0), "passed": verdict.get("correct") is True,
                  "predicted_answer": result.get("predicted_answer"), "judge_method": verdict.get("method"),
                  "judge_reason": verdict.get("reason"), "stop": meta.get("stop"), "turns": meta.get("turns") or 0,
                  "tool_calls": meta.get("tool_calls") or 0}
        if self.save_messages:
            sample["messages"] = result.get("messages")
        return sample


def entities_of(task: dict) -> list[str]:
    """Document ids of the task's entities: the answer first, then the evidence chain's subjects and objects."""
    seen: dict[str, None] = {}
    for value in [task.get("answer_doc_id") or task.get("seed_entity")] + [
            x for f in task.get("facts") or [] for x in (f.get("subject_id"), f.get("object_id"))]:
        if value:
            seen.setdefault(str(value), None)
    return list(seen)


def failure_of(samples: list[dict]) -> str | None:
    """None when a sample passed, else the most common way the samples failed (first seen wins a tie)."""
    if any(s["passed"] for s in samples):
        return None
    reasons = Counter(FAILURE_OF_STOP.get(s.get("stop") or "", "wrong_answer") for s in samples)
    return reasons.most_common(1)[0][0] if reasons else "error"


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def eval_record(task: dict, samples: list[dict], provenance: dict) -> dict:
    passed = sum(1 for s in samples if s["passed"])
    return {
        "id": str(task["id"]), "suite": "deepsearch", "item_id": str(task["id"]), "model": provenance.get("model"),
        "question": task.get("question"), "answer": task.get("answer"), "aliases": task.get("aliases"),
        "tier": task.get("tier"), "hops": task.get("hops"), "depth": task.get("depth"),
        "topology": task.get("topology"), "category": task.get("category"),
        "answer_doc_id": task.get("answer_doc_id"), "entities": entities_of(task),
        "samples": samples, "passed": passed, "score": round(passed / len(samples), 6) if samples else 0.0,
        "failure": failure_of(samples),
        "mean_tool_calls": _mean([s.get("tool_calls") or 0 for s in samples if not s.get("error")]),
        "mean_turns": _mean([s.get("turns") or 0 for s in samples if not s.get("error")]),
        "provenance": provenance,
    }
