"""Multi-turn rollouts: model turn -> tool calls (in a worker pool) -> tool results -> model turn -> ...

The loop runs inside one datatrove rollout, so while one trajectory waits for its tools, the engine keeps
decoding the turns of the others (continuous batching stays full; bench/teacher_throughput.py measures it).

Resume mid-trajectory: every model turn and every tool result goes through datatrove's request cache,
keyed by (record, payload hash) and written to sqlite as soon as it completes. After a crash (even
SIGKILL) the re-run restarts the unfinished trajectory from turn 0, but turn 0's payload is identical to
the first run's (same messages, same derived seed), so it is answered from the cache instantly, as is
its tool result, which makes turn 1's payload identical too, and so on: the run fast-forwards through
the finished turns and the first request that reaches the server is the first turn not yet answered.
At most the calls in flight at the kill (whose sqlite write was still queued) are redone.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from synth.teachers.session import Reply, Session

# A rollout stop that is the teacher's failure (its reply was cut at max_tokens), not the agent's, and the
# stable reason every pipeline records it under (trajectory rejects, deep-search solver summaries).
TEACHER_FAILURE_OF_STOP = {"truncated": "teacher_truncated"}

_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: Any          # decoded JSON arguments (dict), or the raw string when it did not parse
    error: str | None = None

    def as_message_call(self) -> dict:
        args = self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments, ensure_ascii=False)
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": args}}


def tool_calls_of(reply: Reply, turn: int) -> list[ToolCall]:
    """Native OpenAI `tool_calls` when the server parsed them, else Hermes `<tool_call>{json}</tool_call>`."""
    calls = []
    for i, call in enumerate(reply.tool_calls or []):
        fn = call.get("function") or {}
        calls.append(_call(call.get("id") or f"call_{turn}_{i}", fn.get("name") or "", fn.get("arguments")))
    if calls:
        return calls
    for i, block in enumerate(_HERMES.findall(reply.text or "")):
        try:
            body = json.loads(block, strict=False)
        except ValueError:
            calls.append(ToolCall(f"call_{turn}_{i}", "", block, error="malformed tool call (not JSON)"))
            continue
        body = body if isinstance(body, dict) else {}
        calls.append(_call(f"call_{turn}_{i}", str(body.get("name") or ""), body.get("arguments", {})))
    return calls


def _call(call_id: str, name: str, arguments: Any) -> ToolCall:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}", strict=False)
        except ValueError:
            return ToolCall(call_id, name, arguments, error="tool arguments are not JSON")
    return ToolCall(call_id, name, arguments)


@dataclass
class Trajectory:
    messages: list[dict]
    stop: str               # answer | max_turns | truncated
    turns: int
    tool_calls: int = 0


@dataclass
class AgentLoop:
    """tools: name -> fn(arguments) -> JSON-able result (run in the tool pool; exceptions become an error
    observation the model sees). `turn_params` are extra request parameters for every model turn (e.g. a
    `structured_outputs` regex that makes a random-weight test model emit well-formed calls)."""

    tools: dict[str, Callable[[Any], Any]]
    tool_specs: list[dict] | None = None
    max_turns: int = 16
    turn_params: dict = field(default_factory=dict)
    parse_calls: Callable[[Reply, int], list[ToolCall]] = tool_calls_of

    async def run(self, session: Session, messages: list[dict]) -> Trajectory:
        messages, calls_made = list(messages), 0
        for turn in range(self.max_turns):
            reply = await session.chat(_model_view(messages), tag=f"turn{turn}", tools=self.tool_specs,
                                       **self.turn_params)
            calls = self.parse_calls(reply, turn)
            messages.append(_assistant(reply, calls))
            if reply.finish_reason == "length":
                return Trajectory(messages, "truncated", turn + 1, calls_made)
            if not calls:
                return Trajectory(messages, "answer", turn + 1, calls_made)
            results = await asyncio.gather(*(self._observe(session, c, f"turn{turn}.{i}") for i, c in enumerate(calls)))
            calls_made += len(calls)
            messages.extend({"role": "tool", "tool_call_id": c.id, "name": c.name, "content": r}
                            for c, r in zip(calls, results))
        return Trajectory(messages, "max_turns", self.max_turns, calls_made)

    async def _observe(self, session: Session, call: ToolCall, tag: str) -> str:
        if call.error:
            return f"error: {call.error}"
        fn = self.tools.get(call.name)
        if fn is None:
            return f"error: unknown tool {call.name!r}; available: {', '.join(sorted(self.tools))}"
        try:
            result = await session.tool(fn, call.arguments, name=call.name, tag=tag)
        except Exception as exc:  # noqa: BLE001 - a failing tool is an observation, not a crash
            return f"error: {type(exc).__name__}: {exc}"[:2000]
        return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)


def _model_view(messages: list[dict]) -> list[dict]:
    """What the server gets: earlier thinking is kept in the trajectory but not sent back (chat templates
    drop it anyway, and strict OpenAI-compatible servers refuse unknown message fields)."""
    return [{k: v for k, v in m.items() if k != "reasoning_content"} for m in messages]


def _assistant(reply: Reply, calls: list[ToolCall]) -> dict:
    content = _HERMES.sub("", reply.text or "").strip() if calls and not reply.tool_calls else reply.text
    message = {"role": "assistant", "content": content or None}
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    if calls:
        message["tool_calls"] = [c.as_message_call() for c in calls]
    return message
