"""Trajectory filters (the paper keeps only successful trajectories) and best-of-k selection.

Each check returns None (keep) or a Reject with a stable reason, cheapest first:
    invalid_format          a call without a result, arguments that are not a JSON object, unparsed call
                            markup left in assistant text, a result answering no call, no final answer turn
    wrong_answer / no_answer / unjudged   the judge's verdict (`judgement.correct`) is not True
    too_few_tool_calls      fewer than --min-tool-calls calls
    repeated_call           the same call (tool + canonical arguments) back to back, or more than
                            --max-identical-calls times in all: a looping agent
    unrecovered_tool_error  a call that failed and was never followed by a successful call of that tool
    over_token_budget       more tokens than --token-budget (estimate, or a local tokenizer)
`select_best` keeps, among the rollouts of one task that pass, the one with the fewest tool calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from synth.pipelines.trajectories.messages import (
    call_signature,
    parse_arguments,
    result_error,
    tool_call_count,
    turns,
)

from synth.records import Reject

_MARKUP = re.compile(r"<tool_call>|<use_mcp_tool>")


@dataclass(frozen=True)
class FilterConfig:
    require_correct: bool = True
    min_tool_calls: int = 0
    max_identical_calls: int = 2
    token_budget: int = 0          # 0: no limit
    allow_unrecovered_errors: bool = False


def format_problem(messages: list[dict]) -> str | None:
    if not any(m.get("role") == "user" for m in messages):
        return "no user message"
    answered = set()
    for turn in turns(messages):
        if _MARKUP.search(turn.message.get("content") or ""):
            return f"messages[{turn.index}]: tool-call markup left in the text"
        for n, step in enumerate(turn.steps):
            fn = step.call.get("function") or {}
            if not fn.get("name") or parse_arguments(fn.get("arguments")) is None:
                return f"messages[{turn.index}].tool_calls[{n}]: no tool name or arguments that are not a JSON object"
            if step.result_index is None:
                return f"messages[{turn.index}].tool_calls[{n}]: no tool result"
            answered.add(step.result_index)
    orphans = [i for i, m in enumerate(messages) if m.get("role") == "tool" and i not in answered]
    if orphans:
        return f"messages[{orphans[0]}]: a tool result that answers no call"
    last = messages[-1]
    if last.get("role") != "assistant" or last.get("tool_calls"):
        return "the trajectory does not end with an answer turn"
    return None


def repeated_call(messages: list[dict], max_identical: int) -> str | None:
    seen: dict[str, int] = {}
    previous = None
    for turn in turns(messages):
        for step in turn.steps:
            sig = call_signature(step.call)
            if sig == previous:
                return f"messages[{turn.index}]: the same call twice in a row: {sig[:120]}"
            seen[sig] = seen.get(sig, 0) + 1
            if max_identical and seen[sig] > max_identical:
                return f"messages[{turn.index}]: call made {seen[sig]} times: {sig[:120]}"
            previous = sig
    return None


def unrecovered_error(messages: list[dict]) -> str | None:
    failed: dict[str, int] = {}   # tool name -> message index of its first failure not yet recovered
    for turn in turns(messages):
        for step in turn.steps:
            name = (step.call.get("function") or {}).get("name") or ""
            if result_error(step.result) is not None:
                failed.setdefault(name, turn.index)
            else:
                failed.pop(name, None)
    if failed:
        name, index = next(iter(failed.items()))
        return f"messages[{index}]: {name or 'a tool'} failed and no later call of it succeeded"
    return None


def trajectory_text(record: dict) -> str:
    parts = []
    for m in record.get("messages") or []:
        parts += [m.get("reasoning_content") or "", m.get("content") or ""]
        parts += [(c.get("function") or {}).get("arguments") or "" for c in m.get("tool_calls") or []]
    return "\n".join(p for p in parts if p)


def estimate_tokens(record: dict) -> int:
    from synth.filters.text import estimate_tokens as estimate

    return estimate(trajectory_text(record))


def verdict(record: dict) -> Reject | None:
    judged = record.get("judgement") or {}
    if judged.get("correct") is True:
        return None
    if judged.get("correct") is None:
        return Reject("unjudged", "no judgement (no gold answer?)")
    if not record.get("predicted_answer"):
        return Reject("no_answer", judged.get("reason"))
    return Reject("wrong_answer", (judged.get("reason") or "")[:300] or None)


def check(record: dict, cfg: FilterConfig, count: Callable[[dict], int] = estimate_tokens) -> Reject | None:
    messages = record.get("messages") or []
    problem = format_problem(messages)
    if problem:
        return Reject("invalid_format", problem)
    if cfg.require_correct and (rejected := verdict(record)) is not None:
        return rejected
    calls = tool_call_count(messages)
    if calls < cfg.min_tool_calls:
        return Reject("too_few_tool_calls", f"{calls} < {cfg.min_tool_calls}")
    if (problem := repeated_call(messages, cfg.max_identical_calls)) is not None:
        return Reject("repeated_call", problem)
    if not cfg.allow_unrecovered_errors and (problem := unrecovered_error(messages)) is not None:
        return Reject("unrecovered_tool_error", problem)
    if cfg.token_budget and (tokens := count(record)) > cfg.token_budget:
        return Reject("over_token_budget", f"{tokens} tokens > {cfg.token_budget}")
    return None


def select_best(records: list[dict]) -> dict | None:
    """Fewest tool calls, then fewest tokens, then the earliest rollout (deterministic)."""
    if not records:
        return None
    return min(enumerate(records), key=lambda p: (tool_call_count(p[1]["messages"]), estimate_tokens(p[1]), p[0]))[1]
