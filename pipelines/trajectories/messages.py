"""Canonical trajectory messages (OpenAI chat format) and the small helpers every module here shares.

Canonical form: each message holds only the schema's keys, and a key whose value is None is left out
(null and absent are the same thing in records, and parquet gives every key back as null). Two
trajectories are equal when their canonical forms are equal.

Tool results pair with calls by position within the group of tool messages that follows an assistant
turn, not by `tool_call_id`: real data reuses ids (tau-bench), and a position never lies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MESSAGE_KEYS = ("role", "content", "reasoning_content", "tool_calls", "tool_call_id", "name",
                "loss", "weight", "reasoning_loss", "turn_label")
ROLES = ("system", "user", "assistant", "tool")
_THINK = re.compile(r"\s*<think>(.*?)</think>\n?", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")


def clean_call(call: dict) -> dict:
    fn = call.get("function") or {}
    return {"id": str(call.get("id") or ""), "type": "function",
            "function": {"name": str(fn.get("name") or ""), "arguments": _arguments_text(fn.get("arguments"))}}


def _arguments_text(arguments: Any) -> str:
    if arguments is None:
        return ""
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def clean_message(message: dict) -> dict:
    """Only schema keys, no None values, tool calls in their strict shape."""
    out = {k: message[k] for k in MESSAGE_KEYS if message.get(k) is not None}
    if "tool_calls" in out:
        out["tool_calls"] = [clean_call(c) for c in out["tool_calls"]] or None
        if out["tool_calls"] is None:
            del out["tool_calls"]
    return out


def canonical(messages: list[dict]) -> list[dict]:
    return [clean_message(m) for m in messages]


def call_id(ordinal: int, index: int) -> str:
    """The id converters give a call: assistant turn `ordinal` (0-based, counted over assistant messages),
    call `index` within it. Formats without ids (Hermes text, MCP XML) get these ids back on decoding."""
    return f"call_{ordinal}_{index}"


def split_think(text: str) -> tuple[str | None, str]:
    """(<think> content or None, the rest). One newline on each side inside the tags is layout, not
    content; so is one newline after </think>."""
    match = _THINK.match(text)
    if match is None or not text.lstrip().startswith("<think>"):
        return None, text
    inner = match.group(1)
    inner = inner.removeprefix("\n")
    inner = inner.removesuffix("\n")
    return inner, text[match.end():]


def decode_text_calls(text: str | None, block, sep: str, call_of) -> dict:
    """An assistant message of a text tool-call format (Hermes `<tool_call>`, MCP XML) -> a canonical one:
    reasoning from <think>, the calls from `block` matches (`call_of(match, index)`), and the content around
    them joined by `sep`, the separator the format's encoder put between content and calls."""
    reasoning, rest = split_think(text or "")
    blocks = list(block.finditer(rest))
    message: dict = {"role": "assistant"}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    if not blocks:
        message["content"] = rest
        return message
    content = rest[:blocks[0].start()]
    content = content[:-len(sep)] if content.endswith(sep) else content.rstrip("\n")
    tail = rest[blocks[-1].end():].strip()
    content = f"{content}{sep}{tail}" if content and tail else content + tail
    if content:
        message["content"] = content
    message["tool_calls"] = [call_of(b, i) for i, b in enumerate(blocks)]
    return message


def think_prefix(reasoning: str | None) -> str:
    return "" if reasoning is None else f"<think>\n{reasoning}\n</think>\n"


def extract_answer(text: str | None) -> str | None:
    """The answer an assistant message gives: the last <answer>…</answer>, else the last \\boxed{…}."""
    if not text:
        return None
    tagged = _ANSWER.findall(text)
    if tagged:
        return tagged[-1].strip()
    boxed = _BOXED.findall(text)
    return boxed[-1].strip() if boxed else None


def final_answer(messages: list[dict]) -> str | None:
    """The answer of the last assistant message without tool calls (tagged, else its whole content)."""
    for message in reversed(messages):
        if message.get("role") != "assistant":
            continue
        if message.get("tool_calls"):
            return None
        content = message.get("content") or ""
        found = extract_answer(content)
        if found is not None:
            return found
        _, rest = split_think(content)
        return rest.strip() or None
    return None


def parse_arguments(raw: Any) -> dict | None:
    """Decoded call arguments, or None when they are not a JSON object."""
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}", strict=False)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@dataclass
class Step:
    """One tool call of an assistant turn and the tool message that answered it (None: no answer)."""

    call: dict
    result_index: int | None
    result: str | None


@dataclass
class Turn:
    index: int               # message index of the assistant message
    ordinal: int             # assistant turn number (0-based)
    message: dict
    steps: list[Step]

    @property
    def is_final(self) -> bool:
        return not self.steps


def turns(messages: list[dict]) -> Iterator[Turn]:
    """Every assistant turn with its calls paired to the tool messages that follow it (by position)."""
    ordinal = 0
    for i, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        results = []
        j = i + 1
        while j < len(messages) and messages[j].get("role") == "tool":
            results.append(j)
            j += 1
        steps = [Step(call, results[n] if n < len(results) else None,
                      (messages[results[n]].get("content") if n < len(results) else None))
                 for n, call in enumerate(message.get("tool_calls") or [])]
        yield Turn(i, ordinal, message, steps)
        ordinal += 1


def result_error(content: str | None) -> str | None:
    """Why a tool result is an error, or None. Errors are `{"error": ...}` objects (synth tools, the tool
    server) or text that starts with `error:` / a network error line (harness and imported data)."""
    if content is None:
        return "no_result"
    text = content.lstrip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict) and value.get("error"):
            return str(value["error"])
    low = text[:200].lower()
    if low.startswith(("error:", "error ", "network error", "traceback", "tool error")):
        return "error"
    return None


def call_signature(call: dict) -> str:
    """Tool name + canonical arguments: equal signatures are identical calls."""
    fn = call.get("function") or {}
    args = parse_arguments(fn.get("arguments"))
    body = json.dumps(args, sort_keys=True, ensure_ascii=False) if args is not None else str(fn.get("arguments"))
    return f"{fn.get('name')}:{body}"


def tool_call_count(messages: list[dict]) -> int:
    return sum(len(m.get("tool_calls") or []) for m in messages if m.get("role") == "assistant")
