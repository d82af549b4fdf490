"""The LLM critic: one schema-constrained teacher call per assistant turn.

The critic sees the question (and the gold answer when known, as a reference), a compact account of the
earlier turns, and the turn under review with its tool results, and returns CRITIC_SCHEMA: scores 1-5
for logical soundness, call accuracy and information gain, the label essential | unnecessary and a
reason. Loss follows the label; the weight of an essential turn is its mean score / 5.
Calls are tagged by message index, so a resumed run replays finished verdicts from the request cache.
"""

from __future__ import annotations

import asyncio

from synth.pipelines.labels.apply import TurnLabel, apply_labels
from synth.pipelines.trajectories import policies
from synth.pipelines.trajectories.messages import turns

from synth.teachers.errors import TeacherError
from synth.teachers.tasks import Dropped, TeacherTask

SCORES = ("logical_soundness", "call_accuracy", "information_gain")
CRITIC_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": [*SCORES, "label", "reason"],
    "properties": {**{s: {"type": "integer", "minimum": 1, "maximum": 5} for s in SCORES},
                   "label": {"enum": ["essential", "unnecessary"]},
                   "reason": {"type": "string", "maxLength": 200}},
}
INSTRUCTIONS = """You review one step of a research agent's trajectory. Score the step from 1 (bad) to 5 (excellent):
- logical_soundness: does the step follow from what the agent knew at that point?
- call_accuracy: are the tool calls well chosen, with correct arguments? (final answer: is it well supported?)
- information_gain: how much new, relevant information did the step obtain (or how correct is the final answer)?
label: "essential" if the step moves the agent toward the answer and should be imitated; "unnecessary" if it is
redundant, erroneous or irrelevant. Reply with JSON only."""
CLIP = 2000


def _clip(text: str | None, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


def _recent(text: str, limit: int) -> str:
    """The end of the account of earlier steps (the most recent ones matter most)."""
    return text if len(text) <= limit else "[… earlier steps omitted]\n" + text[-limit:].split("\n", 1)[-1]


def review_messages(record: dict, index: int, clip: int = CLIP) -> list[dict]:
    """The critic's prompt for the assistant message at `index`; `clip` bounds every long part (tool results,
    reasoning, the account of earlier steps) so that a 600-turn trajectory still fits a context window."""
    messages = record["messages"]
    before = policies.rule_summary(messages[:index], len(policies.groups(messages[:index])), limit=min(200, clip))
    turn = messages[index]
    calls = [f"{(c.get('function') or {}).get('name')}({(c.get('function') or {}).get('arguments')})"
             for c in turn.get("tool_calls") or []]
    results, j = [], index + 1
    while j < len(messages) and messages[j].get("role") == "tool":
        results.append(_clip(messages[j].get("content"), clip))
        j += 1
    parts = [INSTRUCTIONS, f"Question: {record.get('question') or '(see the conversation)'}"]
    if record.get("answer"):
        parts.append(f"Reference answer (not visible to the agent): {record['answer']}")
    parts += [f"Earlier steps:\n{_recent(before, 3 * clip) or '(none)'}", "The step under review:",
              f"Reasoning: {_clip(turn.get('reasoning_content'), clip) or '(none)'}",
              f"Message: {_clip(turn.get('content'), clip) or '(none)'}",
              f"Tool calls: {_clip('; '.join(calls), clip) or '(none: this is a reply / the final answer)'}"]
    if results:
        parts.append("Tool results:\n" + "\n---\n".join(results))
    return [{"role": "user", "content": "\n\n".join(parts)}]


def verdict_label(reply: dict) -> TurnLabel:
    scores = {s: int(reply[s]) for s in SCORES}
    return TurnLabel(reply["label"], reply.get("reason") or None, scores, sum(scores.values()) / (5 * len(SCORES)))


class CriticTask(TeacherTask):
    name = "label turns (llm)"
    parallel_calls = 8

    def __init__(self, judge_name: str, retries: int = 2, clip: int = CLIP):
        self.judge_name, self.retries, self.clip = judge_name, retries, clip

    async def run(self, record: dict, session):
        indices = [t.index for t in turns(record.get("messages") or [])]
        if not indices:
            return Dropped("no_assistant_turn", "nothing to label", record=record)
        limit = asyncio.Semaphore(self.parallel_calls)

        async def review(index: int) -> dict:
            async with limit:
                return await session.json(review_messages(record, index, self.clip), CRITIC_SCHEMA, tag=f"m{index}",
                                          retries=self.retries, name="turn_review")
        try:
            replies = await asyncio.gather(*(review(i) for i in indices))
        except TeacherError as exc:
            return Dropped(exc.reason, exc.detail or None, raw=exc.raw, record=record)
        labels = {i: verdict_label(r) for i, r in zip(indices, replies)}
        return apply_labels(record, labels, self.judge_name)

