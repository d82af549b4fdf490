"""What a task sees of the teacher while it works on one record: chat, JSON and tool calls.

Every call goes through datatrove's `generate` callback, so every call is in datatrove's request cache
(keyed by record, payload hash): after a crash, re-running a record replays its finished calls at once
and only the first unfinished call reaches the server. That is what makes multi-turn rollouts resume
mid-trajectory (see synth.teachers.agent). Three rules keep replays exact:
  * each call carries a seed derived from (run seed, record id, call tag), so the same call of the same
    record has the same payload on every run, and K samples of one prompt have K distinct payloads;
  * tool results are cached the same way (`tool`), so a replayed trajectory sees the same observations;
  * usage (tokens, requests, cached replays) is counted per record and lands in the manifest.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from datatrove.pipeline.inference.types import InferenceResult, ServerError

from synth.teachers import structured
from synth.teachers.config import Teacher
from synth.teachers.errors import TeacherError


@dataclass
class Reply(InferenceResult):
    """datatrove's InferenceResult plus native tool calls and whether it was replayed from the cache."""

    tool_calls: list | None = None
    cached: bool = False

    def to_cache(self) -> dict:
        return {"text": self.text, "finish_reason": self.finish_reason, "usage": self.usage,
                "reasoning": self.reasoning, "tool_calls": self.tool_calls}

    @classmethod
    def from_cache(cls, data: dict) -> Reply:
        return cls(text=data.get("text") or "", finish_reason=data.get("finish_reason") or "stop",
                   usage=data.get("usage") or {}, reasoning=data.get("reasoning") or "",
                   tool_calls=data.get("tool_calls"), cached=True)


class ParseFailure(TeacherError):
    """A JSON call whose every attempt failed to parse or validate; keeps the last raw reply."""


def derive_seed(*parts: Any) -> int:
    import xxhash

    return xxhash.xxh64_intdigest("\x1f".join(map(str, parts)).encode("utf-8")) & 0x7FFFFFFF


class Session:
    def __init__(self, generate: Callable, teacher: Teacher, record_key: str, tool_pool=None):
        self._generate, self.teacher, self.key, self.pool = generate, teacher, record_key, tool_pool
        self.usage: Counter = Counter()
        self.stopped: ServerError | None = None  # set when a call raised "stop the run"
        self._auto_tag = 0
        self.mode = structured.resolve(teacher.options.structured, teacher.spec.kind == "vllm")

    def _tag(self, tag: str | None) -> str:
        if tag is not None:
            return tag
        self._auto_tag += 1  # deterministic as long as the task issues calls in a deterministic order
        return f"#{self._auto_tag}"

    def seed(self, tag: str) -> int:
        return derive_seed(self.teacher.options.seed, self.key, tag)

    async def chat(self, messages: list[dict], *, tag: str | None = None, tools: list | None = None,
                   **params: Any) -> Reply:
        """One chat completion. Raises TeacherError (reason = reject reason) when it fails for good."""
        payload = {"messages": messages, "seed": self.seed(self._tag(tag)), **params}
        if tools:
            payload["tools"] = tools
        try:
            reply = await self._generate(payload)
        except TeacherError:
            self.usage["failed_requests"] += 1
            raise
        except ServerError as exc:  # the run stops (teacher gone, cap reached): remembered, see SynthRollout
            self.stopped = exc
            raise
        self.usage["cached_requests" if reply.cached else "requests"] += 1
        self.usage["prompt_tokens"] += int(reply.usage.get("prompt_tokens") or 0)
        self.usage["completion_tokens"] += int(reply.usage.get("completion_tokens") or 0)
        return reply

    async def json(self, messages: list[dict], schema: dict, *, tag: str | None = None, retries: int = 2,
                   name: str = "reply", **params: Any) -> Any:
        """A JSON value valid under `schema`: constrained decoding, then parse + validate, re-sampling with
        a new seed up to `retries` times. Raises ParseFailure (reason, detail, raw reply) otherwise."""
        tag = self._tag(tag)
        limits = structured.constraint(schema, self.mode, name)
        reason = detail = raw = None
        for attempt in range(retries + 1):
            reply = await self.chat(messages, tag=f"{tag}/{attempt}", **limits, **params)
            value, reason, detail = structured.parse(reply.text, reply.finish_reason, schema)
            if reason is None:
                return value
            raw = reply.text
            if attempt < retries:
                self.usage["parse_retries"] += 1
        raise ParseFailure(reason, detail or "", raw=raw)

    async def tool(self, fn: Callable[..., Any], *args: Any, name: str, tag: str | None = None) -> Any:
        """Run `fn(*args)` in the tool pool; its JSON result is cached like a model call, so a resumed
        trajectory replays the same observation without running the tool again."""
        loop = asyncio.get_running_loop()

        async def compute() -> str:
            value = await loop.run_in_executor(self.pool, functools.partial(fn, *args))
            return json.dumps(value, ensure_ascii=False)

        payload = {"tool": name, "args": json.loads(json.dumps(args, default=str)), "tag": self._tag(tag)}
        reply = await self._generate(payload, compute=compute)
        self.usage["cached_tool_calls" if reply.cached else "tool_calls"] += 1
        return json.loads(reply.text)
