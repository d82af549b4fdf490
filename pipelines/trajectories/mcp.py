"""OpenAI messages <-> MiroThinker / MiroFlow `<use_mcp_tool>` XML.

Assistant turn:  [<think>\\nREASONING\\n</think>\\n] CONTENT [\\n\\n] BLOCK [\\n\\n BLOCK ...]
BLOCK:           <use_mcp_tool>\\n<server_name>S</server_name>\\n<tool_name>T</tool_name>\\n<arguments>\\nA\\n</arguments>\\n</use_mcp_tool>
Tool results:    each result is the next user message, raw (no wrapper), in call order.

Tool names: MiroFlow's OpenAI logs name a tool `SERVER-TOOL` (`tool-searching-google_search`); that name
splits at its last '-'. A name without '-' (synth's own `search`, `open`, ...) lives on server
`DEFAULT_SERVER`, which decodes back to the bare name. `A` is the arguments string, verbatim.
"""

from __future__ import annotations

import re

from synth.pipelines.trajectories.messages import call_id, decode_text_calls, think_prefix

DEFAULT_SERVER = "synth"
_BLOCK = re.compile(r"<use_mcp_tool>\s*<server_name>(.*?)</server_name>\s*<tool_name>(.*?)</tool_name>\s*"
                    r"<arguments>(.*?)</arguments>\s*</use_mcp_tool>", re.DOTALL)


def split_name(name: str) -> tuple[str, str]:
    server, sep, tool = name.rpartition("-")
    return (server, tool) if sep and server and tool else (DEFAULT_SERVER, name)


def join_name(server: str, tool: str) -> str:
    return tool if server == DEFAULT_SERVER else f"{server}-{tool}"


def encode_call(name: str, arguments: str) -> str:
    server, tool = split_name(name)
    return (f"<use_mcp_tool>\n<server_name>{server}</server_name>\n<tool_name>{tool}</tool_name>\n"
            f"<arguments>\n{arguments}\n</arguments>\n</use_mcp_tool>")


def encode_assistant(message: dict) -> str:
    content = message.get("content") or ""
    blocks = "\n\n".join(encode_call(c["function"]["name"], c["function"]["arguments"])
                         for c in message.get("tool_calls") or [])
    body = f"{content}\n\n{blocks}" if content and blocks else content + blocks
    return think_prefix(message.get("reasoning_content")) + body


def to_mcp(messages: list[dict]) -> list[dict]:
    """Canonical OpenAI messages -> [{role, content}]; each tool result becomes a user message."""
    out = []
    for message in messages:
        if message["role"] == "assistant":
            out.append({"role": "assistant", "content": encode_assistant(message)})
        elif message["role"] == "tool":
            out.append({"role": "user", "content": message.get("content")})
        else:
            out.append({"role": message["role"], "content": message.get("content")})
    return out


def _strip_one(text: str, char: str = "\n") -> str:
    text = text[1:] if text.startswith(char) else text
    return text[:-1] if text.endswith(char) else text


def decode_assistant(text: str | None, ordinal: int) -> dict:
    return decode_text_calls(text, _BLOCK, "\n\n", lambda b, i: _call(b, ordinal, i))


def _call(block, ordinal: int, index: int) -> dict:
    name = join_name(block.group(1).strip(), block.group(2).strip())
    return {"id": call_id(ordinal, index), "type": "function",
            "function": {"name": name, "arguments": _strip_one(block.group(3))}}


def from_mcp(messages: list[dict]) -> list[dict]:
    """[{role, content}] MCP XML messages -> canonical OpenAI messages. After an assistant turn with n
    calls, the next n consecutive user messages are its results."""
    out: list[dict] = []
    ordinal, pending = 0, []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role == "assistant":
            decoded = decode_assistant(content, ordinal)
            ordinal += 1
            pending = list(decoded.get("tool_calls") or [])
            out.append(decoded)
        elif role == "user" and pending:
            call = pending.pop(0)
            out.append({k: v for k, v in (("role", "tool"), ("tool_call_id", call["id"]),
                                          ("name", call["function"]["name"]), ("content", content)) if v is not None})
        else:
            pending = []
            out.append({k: v for k, v in (("role", role), ("content", content)) if v is not None})
    return out
