"""The agent harness: teacher rollouts over tool functions, through synth.teachers.

    rollout = await Harness(config, tools, specs).rollout(session, question, tag="r0")

Each turn renders the context policy's view of the trajectory in the chosen tool-call format (openai:
native `tools`; hermes: Qwen `<tool_call>` text with the tools in the system prompt; mcp_xml: MiroThinker
XML), asks the teacher (`session.chat`), decodes the reply back to canonical OpenAI messages with the
format's own decoder, runs the calls (`session.tool`, in the teacher layer's tool pool) and repeats until
the model answers without a call, a reply is cut at max_tokens, or `max_turns` is reached.

Resume: every model turn, tool result and summary goes through the teacher session, i.e. datatrove's request
cache, under a tag that names the rollout and the turn. A re-run after a crash asks for turn 0 again with the
same payload, gets it from the cache, and so on: it fast-forwards through the finished turns and the first
request that reaches the server is the first unfinished turn (tests/trajectories/test_resume.py kills a
600-turn rollout and counts the requests).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from synth.pipelines.trajectories import formats, hermes, mcp, policies
from synth.pipelines.trajectories.envtools import result_text
from synth.pipelines.trajectories.messages import parse_arguments, split_think
from synth.pipelines.trajectories.policies import Policy

PROMPTS = Path(__file__).parent / "prompts"
TOOL_FORMATS = ("hermes", "openai", "mcp_xml")
SUPERVISION = ("loss", "weight", "turn_label")


@cache
def prompt(name: str) -> str:
    return (PROMPTS / name).read_text(encoding="utf-8").strip()


@dataclass
class HarnessConfig:
    max_turns: int = 64
    policy: Policy = field(default_factory=lambda: Policy("full"))
    tool_format: str = "hermes"
    turn_params: dict = field(default_factory=dict)   # extra request parameters for every model turn
    summary_max_tokens: int = 512


@dataclass
class Rollout:
    messages: list[dict]
    stop: str                  # answer | max_turns | truncated
    turns: int
    tool_calls: int
    summaries: list[dict] = field(default_factory=list)


def head_messages(question: str, system: str | None = None) -> list[dict]:
    return [{"role": "system", "content": system or prompt("system.txt")}, {"role": "user", "content": question}]


def tools_block(specs: list[dict], fmt: str) -> str:
    if fmt == "hermes":
        return prompt("tools_hermes.txt").replace("{tools}", "\n".join(json.dumps(s, ensure_ascii=False) for s in specs))
    if fmt == "mcp_xml":
        listing = "\n".join(f"- {s['function']['name']}: {s['function'].get('description', '')}\n  arguments schema: "
                            f"{json.dumps(s['function'].get('parameters', {}), ensure_ascii=False)}" for s in specs)
        return prompt("tools_mcp_xml.txt").replace("{server}", mcp.DEFAULT_SERVER).replace("{tools}", listing)
    return ""


def render(view: list[dict], fmt: str, specs: list[dict]) -> list[dict]:
    """The request messages: earlier thinking and supervision fields dropped (chat templates drop old
    thinking anyway), the text formats encoded, their tool instructions appended to the system prompt."""
    plain = [{k: v for k, v in m.items() if k not in SUPERVISION and k != "reasoning_content"} for m in view]
    if fmt == "openai":
        return plain
    text = formats.render(plain, fmt)
    block = tools_block(specs, fmt)
    if text and text[0]["role"] == "system":
        text[0] = {"role": "system", "content": f"{text[0].get('content') or ''}\n\n{block}"}
    else:
        text.insert(0, {"role": "system", "content": block})
    return text


def decode_reply(reply, fmt: str, ordinal: int) -> dict:
    """A teacher reply -> one canonical assistant message (native tool calls win over text markup)."""
    if reply.tool_calls:
        reasoning, content = split_think(reply.text or "")
        message = {"role": "assistant", "content": content or None, "reasoning_content": reasoning,
                   "tool_calls": [{"id": c.get("id") or f"call_{ordinal}_{i}", "type": "function",
                                   "function": {"name": (c.get("function") or {}).get("name") or "",
                                                "arguments": (c.get("function") or {}).get("arguments") or ""}}
                                  for i, c in enumerate(reply.tool_calls)]}
    else:
        decoder = mcp.decode_assistant if fmt == "mcp_xml" else hermes.decode_assistant
        message = decoder(reply.text or "", ordinal)
    if reply.reasoning and not message.get("reasoning_content"):
        message["reasoning_content"] = reply.reasoning
    return {k: v for k, v in message.items() if v is not None}


class Harness:
    def __init__(self, config: HarnessConfig, tools: dict[str, Callable[[Any], Any]], specs: list[dict]):
        if config.tool_format not in TOOL_FORMATS:
            raise ValueError(f"tool format must be one of {', '.join(TOOL_FORMATS)}, got {config.tool_format!r}")
        self.config, self.tools, self.specs = config, tools, specs

    async def rollout(self, session, question: str, tag: str, system: str | None = None) -> Rollout:
        cfg = self.config
        messages, summaries, calls = head_messages(question, system), [], 0
        for turn in range(cfg.max_turns):
            view = policies.view(messages, cfg.policy, summaries)
            reply = await session.chat(render(view, cfg.tool_format, self.specs), tag=f"{tag}/t{turn}",
                                       tools=self.specs if cfg.tool_format == "openai" else None, **cfg.turn_params)
            assistant = decode_reply(reply, cfg.tool_format, turn)
            messages.append(assistant)
            if reply.finish_reason == "length":
                return Rollout(messages, "truncated", turn + 1, calls, summaries)
            pending = assistant.get("tool_calls") or []
            if not pending:
                return Rollout(messages, "answer", turn + 1, calls, summaries)
            results = await asyncio.gather(*(self._observe(session, c, f"{tag}/t{turn}.{i}")
                                             for i, c in enumerate(pending)))
            calls += len(pending)
            messages.extend({"role": "tool", "tool_call_id": c["id"], "name": c["function"]["name"], "content": r}
                            for c, r in zip(pending, results))
            if cfg.policy.kind == "summary":
                await self._summarize(session, messages, summaries, question, tag)
        return Rollout(messages, "max_turns", cfg.max_turns, calls, summaries)

    async def _observe(self, session, call: dict, tag: str) -> str:
        name = call["function"]["name"]
        arguments = parse_arguments(call["function"]["arguments"])
        if arguments is None:
            return result_text({"error": "invalid_arguments", "message": "tool arguments are not a JSON object"})
        fn = self.tools.get(name)
        if fn is None:
            return result_text({"error": "unknown_tool", "message": f"{name!r}; available: {', '.join(self.tools)}"})
        try:
            return result_text(await session.tool(fn, arguments, name=name, tag=tag))
        except Exception as exc:  # noqa: BLE001 - a failing tool is an observation, not a crashed rollout
            return result_text({"error": "tool_failed", "message": f"{type(exc).__name__}: {exc}"[:500]})

    async def _summarize(self, session, messages: list[dict], summaries: list[dict], question: str, tag: str) -> None:
        k = self.config.policy.k
        upto = policies.summarized_upto(len(policies.groups(messages)), k)
        start = summaries[-1]["upto"] if summaries else 0
        if upto <= start:
            return
        previous = summaries[-1]["text"] if summaries else "(none yet)"
        steps = policies.rule_summary(messages, upto, start=start, limit=1500)
        ask = prompt("summary.txt").replace("{question}", question).replace("{previous}", previous)
        reply = await session.chat([{"role": "user", "content": ask.replace("{steps}", steps)}], tag=f"{tag}/sum{upto}",
                                   max_tokens=self.config.summary_max_tokens)
        text = split_think(reply.text or "")[1].strip() or steps
        summaries.append({"upto": upto, "text": text})


# -- constrained calls for small / untrained models (vLLM regex decoding) -----------------------------------
_FREE = {"string": '"[A-Za-z0-9][A-Za-z0-9 ]{0,23}"', "integer": "[0-9]{1,2}"}


def call_regex(specs: list[dict], fmt: str) -> str:
    """A regex whose matches are one well-formed call of a declared tool (required arguments only) or an
    answer: makes even a random-weight test model produce parseable turns."""
    options = []
    for spec in specs:
        fn = spec["function"]
        params = fn.get("parameters") or {}
        props = params.get("properties") or {}
        required = [r for r in params.get("required") or [] if (props.get(r) or {}).get("type") in _FREE]
        if len(required) != len(params.get("required") or []):
            continue
        body = ", ".join(f'"{r}": {_FREE[props[r]["type"]]}' for r in required)
        args = "\\{" + body + "\\}"
        if fmt == "mcp_xml":
            server, tool = mcp.split_name(fn["name"])
            options.append(f"<use_mcp_tool>\\n<server_name>{re.escape(server)}</server_name>\\n<tool_name>"
                           f"{re.escape(tool)}</tool_name>\\n<arguments>\\n{args}\\n</arguments>\\n</use_mcp_tool>")
        else:
            options.append(f'<tool_call>\\n\\{{"name": "{re.escape(fn["name"])}", "arguments": {args}\\}}\\n</tool_call>')
    options.append("<answer>[A-Za-z0-9][A-Za-z0-9 ]{0,23}</answer>")
    return "(" + "|".join(options) + ")"
