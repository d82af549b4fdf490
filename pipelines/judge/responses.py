"""`synth generate responses`: K candidate responses per prompt from a teacher.

Prompts come from any dataset with chat `messages` (trailing assistant turns are dropped, so a finished
conversation yields the prompt that led to its answer), or a `prompt` / `question` string. Each candidate is
a `trajectory` record: the prompt messages plus one assistant message, `task_id` = the prompt's id (the
judge commands group candidates by it), and `metadata.candidate` = k. A failed or truncated candidate is a
reject of its own (the other candidates of the prompt are kept).
"""

from __future__ import annotations

import asyncio
from typing import Any

from synth.teachers.errors import TeacherError
from synth.teachers.session import Session
from synth.teachers.tasks import Dropped, TeacherTask

MESSAGE_FIELDS = ("role", "content", "tool_calls", "tool_call_id", "name")
ROLES = ("system", "user", "assistant", "tool")


def prompt_of(record: dict) -> list[dict] | None:
    """The chat prompt of a record, or None when it has none (pure: the pre-pass and the task agree)."""
    messages = record.get("messages")
    if messages is None and isinstance(record.get("prompt"), list):
        messages = record["prompt"]
    if isinstance(messages, list):
        kept = [{k: m[k] for k in MESSAGE_FIELDS if m.get(k) is not None}
                for m in messages if isinstance(m, dict) and m.get("role") in ROLES]
        while kept and kept[-1]["role"] == "assistant":
            kept.pop()
        return kept if any(m["role"] != "system" for m in kept) else None
    for key in ("prompt", "question", "instruction"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            return [{"role": "user", "content": value}]
    return None


def prompt_id(record: dict, prompt: list[dict]) -> str:
    if record.get("id") not in (None, ""):
        return str(record["id"])
    from synth.manifest import canonical, hash_bytes

    return "p-" + hash_bytes(canonical(prompt))[:16]


class ResponsesTask(TeacherTask):
    name = "generate responses"

    def __init__(self, n: int, teacher: str | None, seed: int, version: str):
        self.n, self.teacher, self.seed, self.version = n, teacher, seed, version
        self.parallel_calls = n

    async def run(self, record: dict, session: Session) -> list:
        prompt = prompt_of(record)
        if prompt is None:
            return [Dropped("no_prompt", "no 'messages', 'prompt' or 'question' to answer")]
        pid = prompt_id(record, prompt)
        replies = await asyncio.gather(*(self._sample(session, prompt, k) for k in range(self.n)))
        return [self._candidate(record, prompt, pid, k, reply) for k, reply in enumerate(replies)]

    @staticmethod
    async def _sample(session: Session, prompt: list[dict], k: int) -> Any:
        try:
            return await session.chat(prompt, tag=f"candidate{k}")
        except TeacherError as exc:  # one failed candidate must not drop its siblings
            return exc

    def _candidate(self, record: dict, prompt: list[dict], pid: str, k: int, reply: Any) -> dict | Dropped:
        out = {"id": f"{pid}-{k}", "task_id": pid, "messages": list(prompt),
               "tools": record.get("tools") if isinstance(record.get("tools"), list) else None,
               "question": record.get("question") if isinstance(record.get("question"), str) else None,
               "answer": record.get("answer") if isinstance(record.get("answer"), str) else None,
               "metadata": {"prompt_id": pid, "candidate": k, "n": self.n},
               "provenance": {"command": "generate responses", "mode": "teacher", "teacher": self.teacher,
                              "seed": self.seed, "synth_version": self.version}}
        if isinstance(reply, TeacherError):
            return Dropped(reply.reason, reply.detail, raw=reply.raw, record=out)
        out["messages"].append({"role": "assistant", "content": reply.text,
                                "reasoning_content": reply.reasoning or None})
        out["metadata"].update(finish_reason=reply.finish_reason, usage=dict(reply.usage))
        if reply.finish_reason == "length":
            return Dropped("teacher_truncated", f"candidate {k} hit --max-tokens", raw=reply.text, record=out)
        if not (reply.text or "").strip():
            return Dropped("empty_response", f"candidate {k} is empty", raw=reply.text, record=out)
        return {key: value for key, value in out.items() if value is not None}
