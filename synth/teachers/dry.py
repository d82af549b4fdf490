"""A teacher that answers at once, for `--dry-run`: every call a task makes is counted and tokenized, and
answered with a placeholder that lets the task go on, so the task's own code says which calls it makes.

Placeholders: JSON calls get the first value valid under their schema (enums: the first option, numbers:
the maximum, booleans: true, strings: a short word), plain chats an empty reply with no tool calls, and
tools are not run. Hence calls that depend on *what* the teacher answers (a second agent turn, a parse
retry, another difficulty round) are not counted: `--pilot N` measures those on real records.

Prompt tokens are exact where synth has the teacher's tokenizer (`vllm:PATH`: its chat template renders
the messages and tools, as the engine will) and estimated elsewhere (≈ 4 characters per token; an
OpenAI-compatible endpoint does not tell synth its tokenizer).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from typing import Any

from synth import records
from synth.teachers.budget import CHARS_PER_TOKEN, estimate_prompt_tokens
from synth.teachers.config import Teacher
from synth.teachers.session import Reply

PLACEHOLDER = "placeholder"


class TokenCounter:
    def __init__(self, teacher: Teacher):
        self.tokenizer, self.fallbacks = None, 0
        self.method = (f"estimate: ≈{CHARS_PER_TOKEN} characters per token + 4 per message (the endpoint's "
                       "tokenizer is unknown to synth)")
        if teacher.spec.kind == "vllm":
            try:
                from transformers import AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(teacher.spec.target)
            except Exception as exc:  # noqa: BLE001 - a projection is still useful without it
                self.method += f"; {teacher.spec.model}'s tokenizer did not load: {type(exc).__name__}"
                return
            if getattr(tokenizer, "chat_template", None):
                self.tokenizer = tokenizer
                self.method = f"exact: {teacher.spec.model}'s tokenizer and chat template"

    @property
    def exact(self) -> bool:
        return self.tokenizer is not None

    def count(self, messages: list[dict], tools: list | None) -> int:
        if self.tokenizer is not None:
            try:
                ids = self.tokenizer.apply_chat_template(messages, tools=tools or None, add_generation_prompt=True,
                                                         tokenize=True)
                return len(ids["input_ids"] if hasattr(ids, "keys") else ids)
            except Exception:  # noqa: BLE001 - a message shape the template does not take: estimate it
                self.fallbacks += 1
        return estimate_prompt_tokens(messages, tools)


def placeholder(schema: Any, depth: int = 0) -> Any:
    """A value valid under `schema` (the common keywords), preferring the "happy path" value."""
    if not isinstance(schema, dict) or depth > 12:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return placeholder(schema[key][0], depth + 1)
    if schema.get("allOf"):
        merged: dict = {}
        for part in schema["allOf"]:
            merged.update(part if isinstance(part, dict) else {})
        return placeholder(merged, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    return _BY_TYPE.get(kind, lambda s, d: None)(schema, depth)


def _object(schema: dict, depth: int) -> dict:
    props = schema.get("properties") or {}
    value = {name: placeholder(sub, depth + 1) for name, sub in props.items()}
    for name in schema.get("required") or []:
        value.setdefault(name, PLACEHOLDER)
    return value


def _array(schema: dict, depth: int) -> list:
    size = max(int(schema.get("minItems", 0)), min(1, int(schema.get("maxItems", 1))))
    return [placeholder(schema.get("items") or {}, depth + 1) for _ in range(size)]


def _string(schema: dict, depth: int) -> str:
    lo, hi = int(schema.get("minLength", 0)), int(schema.get("maxLength", len(PLACEHOLDER)))
    return (PLACEHOLDER + "x" * lo)[:max(lo, min(hi, len(PLACEHOLDER)))]


def _number(schema: dict, depth: int) -> int | float:
    for key in ("maximum", "minimum"):
        if isinstance(schema.get(key), (int, float)):
            return schema[key]
    if isinstance(schema.get("exclusiveMaximum"), (int, float)):
        return schema["exclusiveMaximum"] - 1
    if isinstance(schema.get("exclusiveMinimum"), (int, float)):
        return schema["exclusiveMinimum"] + 1
    return 0


_BY_TYPE = {"object": _object, "array": _array, "string": _string, "integer": _number, "number": _number,
            "boolean": lambda s, d: True, "null": lambda s, d: None}


class DryGenerate:
    """The `generate` callback of a dry run (what datatrove's runner gives a rollout in a real run)."""

    def __init__(self, counter: TokenCounter, max_tokens: int):
        self.counter, self.max_tokens = counter, max_tokens
        self.calls: Counter = Counter()  # requests, with_tools, invalid_placeholders

    async def __call__(self, payload: dict, compute=None) -> Reply:
        if compute is not None:  # a tool call: not run (a dry run has no side effects)
            return Reply(text="null", finish_reason="tool", usage={}, cached=True)
        self.calls["requests"] += 1
        if offers_tools(payload):
            self.calls["with_tools"] += 1
        prompt = self.counter.count(payload.get("messages") or [], payload.get("tools"))
        usage = {"prompt_tokens": prompt, "completion_tokens": int(payload.get("max_tokens") or self.max_tokens)}
        return Reply(text=self._text(payload), finish_reason="stop", usage=usage)

    def _text(self, payload: dict) -> str:
        schema = ((payload.get("response_format") or {}).get("json_schema") or {}).get("schema")
        if schema is None:
            return ""
        value = placeholder(schema)
        from synth.teachers.structured import first_schema_error

        if first_schema_error(value, schema):
            self.calls["invalid_placeholders"] += 1  # the task will retry: counted as it would happen
        return json.dumps(value, ensure_ascii=False)


_TOOL_MARKUP = ("<tool_call>", "<tools>", "<use_mcp_tool>")


def offers_tools(payload: dict) -> bool:
    """A model turn of an agent: native `tools`, or tools described in the system prompt (Hermes, MCP XML)."""
    if payload.get("tools"):
        return True
    for message in payload.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "system":
            content = message.get("content")
            if isinstance(content, str) and any(tag in content for tag in _TOOL_MARKUP):
                return True
    return False


@dataclasses.dataclass
class Tally:
    records: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0   # an upper bound: max_tokens per request
    silent: int = 0              # records that made no request (rejected before the teacher, say)
    outcomes: Counter = dataclasses.field(default_factory=Counter)


def simulate(task, teacher: Teacher, docs, counter: TokenCounter) -> tuple[Tally, Counter]:
    """Run `task` on every document against the dry teacher; (totals, call kinds)."""
    from synth.teachers.tasks import SynthRollout

    # JSON calls carry their schema in the payload (response_format), which the placeholder needs.
    dry = dataclasses.replace(teacher, options=dataclasses.replace(teacher.options, structured="json_schema"))
    generate, tally = DryGenerate(counter, teacher.options.max_tokens), Tally()
    rollout = SynthRollout(task, dry)

    async def run_all() -> None:
        for doc in docs:
            summary = await rollout(doc, generate)
            usage = records.usage_of(doc)
            tally.records += 1
            tally.requests += usage.get("requests", 0)
            tally.prompt_tokens += usage.get("prompt_tokens", 0)
            tally.completion_tokens += usage.get("completion_tokens", 0)
            tally.silent += usage.get("requests", 0) == 0
            tally.outcomes.update(summary.get("dropped") or [])

    asyncio.run(run_all())
    return tally, generate.calls
