"""OpenAI messages <-> Qwen/Hermes text (the format of Qwen2.5/Qwen3 tool calling and WebDancer data).

Assistant turn:  [<think>\\nREASONING\\n</think>\\n] CONTENT [\\n] <tool_call>\\n{"name": N, "arguments": A}\\n</tool_call>
                 (several calls are separated by one newline; the newline after CONTENT only when both exist)
Tool results:    one user message per group: <tool_response>\\nRESULT\\n</tool_response>, joined by newlines.

`A` is the OpenAI `arguments` string spliced in verbatim, so an argument string of any spacing (or even
invalid JSON that a model produced) comes back byte for byte. Calls get the ids of `messages.call_id`.
Decoding also reads looser real-world text (spaces around the JSON, other key orders, `<think>` without
newlines); what cannot be expressed exactly is handled by formats.py (lossless patches).
"""

from __future__ import annotations

import json
import re

from synth.pipelines.trajectories.messages import call_id, decode_text_calls, think_prefix

_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
_LAYOUT = re.compile(r'\{"name": ("(?:[^"\\]|\\.)*"), "arguments": (.*)\}', re.DOTALL)
_RESPONSE = re.compile(r"<tool_response>\n?(.*?)\n?</tool_response>", re.DOTALL)
OPEN, CLOSE, SEP = "<tool_response>\n", "\n</tool_response>", "\n"


def encode_call(name: str, arguments: str) -> str:
    return '<tool_call>\n{"name": ' + json.dumps(name, ensure_ascii=False) + ', "arguments": ' + arguments + "}\n</tool_call>"


def encode_assistant(message: dict) -> str:
    content = message.get("content") or ""
    blocks = "\n".join(encode_call(c["function"]["name"], c["function"]["arguments"])
                       for c in message.get("tool_calls") or [])
    body = f"{content}\n{blocks}" if content and blocks else content + blocks
    return think_prefix(message.get("reasoning_content")) + body


def encode_results(contents: list[str | None]) -> str:
    return SEP.join(OPEN + (c or "") + CLOSE for c in contents)


def to_hermes(messages: list[dict]) -> list[dict]:
    """Canonical OpenAI messages -> [{role, content}] with system/user/assistant roles only."""
    out, group = [], []
    for message in messages + [{"role": "_end"}]:
        if message["role"] == "tool":
            group.append(message.get("content"))
            continue
        if group:
            out.append({"role": "user", "content": encode_results(group)})
            group = []
        if message["role"] == "assistant":
            out.append({"role": "assistant", "content": encode_assistant(message)})
        elif message["role"] != "_end":
            out.append({"role": message["role"], "content": message.get("content")})
    return out


def decode_call(block: str, ordinal: int, index: int) -> dict:
    """One <tool_call> body -> an OpenAI call. Invalid JSON keeps its raw text as the arguments (name "")."""
    body = block.removeprefix("\n")
    body = body.removesuffix("\n")
    match = _LAYOUT.fullmatch(body)
    if match:
        name, arguments = json.loads(match.group(1)), match.group(2)
    else:
        try:
            value = json.loads(body.strip(), strict=False)
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            raw = value.get("arguments", {})
            name, arguments = value["name"], raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
        else:
            name, arguments = "", body
    return {"id": call_id(ordinal, index), "type": "function", "function": {"name": name, "arguments": arguments}}


def decode_assistant(text: str | None, ordinal: int) -> dict:
    return decode_text_calls(text, _BLOCK, "\n", lambda b, i: decode_call(b.group(1), ordinal, i))


def decode_results(text: str, expected: int) -> list[str] | None:
    """The results in a user message answering `expected` calls, or None if it is not a result message."""
    if not (text.startswith(OPEN) or text.lstrip().startswith("<tool_response>")):
        return None
    if text.startswith(OPEN) and text.endswith(CLOSE):
        parts = text[len(OPEN):-len(CLOSE)].split(CLOSE + SEP + OPEN)
        if len(parts) == expected:
            return parts
    found = _RESPONSE.findall(text)
    return found or None


def from_hermes(messages: list[dict]) -> list[dict]:
    """[{role, content}] Hermes text messages -> canonical OpenAI messages."""
    out: list[dict] = []
    ordinal, pending = 0, []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role == "assistant":
            decoded = decode_assistant(content, ordinal)
            ordinal += 1
            pending = decoded.get("tool_calls") or []
            out.append(decoded)
            continue
        results = decode_results(content, len(pending)) if role == "user" and pending and isinstance(content, str) else None
        if results is not None:
            for call, result in zip(pending, results):
                out.append({"role": "tool", "tool_call_id": call["id"], "name": call["function"]["name"],
                            "content": result})
            pending = []
            continue
        pending = []
        out.append({k: v for k, v in (("role", role), ("content", content)) if v is not None})
    return out
