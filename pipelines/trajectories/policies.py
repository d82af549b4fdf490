"""Context policies: what the model sees of a long trajectory at each turn.

    full            everything
    keep_last_k:K   the last K tool results in full; older results are replaced by a placeholder (the calls
                    stay, so the model still knows what it did)
    summary[:K]     the head (system + question), a running summary of older turns, and the recent turns in
                    full. Older turns are summarized in batches of K (so between K and 2K turns stay in full):
                    by the teacher in the harness, or by `rule_summary` (extractive, deterministic) without one

The stored trajectory always keeps every message; a policy is a *view*. The harness renders the view
each turn, and `synth export` renders the final view as a training variant (summaries made during the
rollout are kept in `metadata.summaries` so the variant shows what the model really saw).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

PLACEHOLDER = "[earlier tool result omitted to save context; call the tool again if you need it]"
SUMMARY_HEADER = "Summary of your earlier steps:"


@dataclass(frozen=True)
class Policy:
    kind: str   # full | keep_last_k | summary
    k: int = 0

    @property
    def name(self) -> str:
        return {"full": "full", "keep_last_k": f"keep_last_k:{self.k}", "summary": f"summary:{self.k}"}[self.kind]


def parse_policy(spec: str) -> Policy:
    """`full` | `keep_last_k:K` | `summary` | `summary:K`; ValueError with the accepted forms otherwise."""
    name, _, arg = (spec or "full").strip().partition(":")
    try:
        k = int(arg) if arg else None
    except ValueError:
        k = -1
    if name == "full" and k is None:
        return Policy("full")
    if name in ("keep_last_k", "keep_last") and k is not None and k >= 0:
        return Policy("keep_last_k", k)
    if name == "summary" and (k is None or k >= 1):
        return Policy("summary", k or 5)
    raise ValueError(f"context policy must be full, keep_last_k:K or summary[:K] (K >= 1), got {spec!r}")


def head_length(messages: list[dict]) -> int:
    """Messages before the first assistant turn (system prompt, question)."""
    for i, message in enumerate(messages):
        if message.get("role") == "assistant":
            return i
    return len(messages)


def groups(messages: list[dict]) -> list[list[int]]:
    """Message indices per turn after the head: an assistant message and what follows it until the next one."""
    out: list[list[int]] = []
    for i in range(head_length(messages), len(messages)):
        if messages[i].get("role") == "assistant" or not out:
            out.append([])
        out[-1].append(i)
    return out


def keep_last(messages: list[dict], k: int) -> list[dict]:
    tool_at = [i for i, m in enumerate(messages) if m.get("role") == "tool"]
    hidden = set(tool_at[:max(0, len(tool_at) - k)])
    return [_placeholder(m) if i in hidden else m for i, m in enumerate(messages)]


def _placeholder(message: dict) -> dict:
    out = {**message, "content": PLACEHOLDER}
    if "loss" in out:
        out["loss"] = 0
    return out


def summarized_upto(n_groups: int, k: int) -> int:
    """How many leading turns are summarized when there are `n_groups`: whole batches of k, leaving >= k."""
    return max(0, (n_groups - k) // k * k)


def summary_view(messages: list[dict], upto: int, summary: str | None) -> list[dict]:
    """Head (+ summary appended to the question) followed by the turns from `upto` on."""
    head = head_length(messages)
    turns = groups(messages)
    if upto <= 0 or not summary:
        return list(messages)
    rest = [i for group in turns[upto:] for i in group]
    view = [dict(m) for m in messages[:head]]
    last_user = max((i for i, m in enumerate(view) if m.get("role") == "user"), default=None)
    note = f"{SUMMARY_HEADER}\n{summary}"
    if last_user is None:
        view.append({"role": "user", "content": note})
    else:
        view[last_user]["content"] = f"{view[last_user].get('content') or ''}\n\n{note}"
    return view + [messages[i] for i in rest]


def view(messages: list[dict], policy: Policy, summaries: list[dict] | None = None) -> list[dict]:
    """The policy's view of `messages`; for summary, the latest summary covering whole batches."""
    if policy.kind == "keep_last_k":
        return keep_last(messages, policy.k)
    if policy.kind == "summary":
        upto = summarized_upto(len(groups(messages)), policy.k)
        text = next((s["text"] for s in reversed(summaries or []) if s.get("upto") == upto), None)
        if upto and text is None:
            text = rule_summary(messages, upto)
        return summary_view(messages, upto, text)
    return list(messages)


def _brief(content: str | None, limit: int = 160) -> str:
    text = content or ""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        if value.get("error"):
            return f"error {value['error']}"
        if "results" in value:
            return "results: " + "; ".join(f"{r.get('doc_id')}" for r in value["results"][:8])
        if "text" in value:
            text = f"{value.get('doc_id')} p{value.get('page')}: {value['text']}"
        elif "passages" in value:
            text = f"{value.get('doc_id')}: " + " ".join(p.get("text", "") for p in value["passages"][:2])
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def rule_summary(messages: list[dict], upto: int, start: int = 0, limit: int = 160) -> str:
    """Extractive summary of turns start..upto-1: each call and the gist of its result."""
    lines = []
    for n, group in enumerate(groups(messages)[start:upto], start=start + 1):
        calls = messages[group[0]].get("tool_calls") or []
        results = [messages[i] for i in group[1:] if messages[i].get("role") == "tool"]
        for j, call in enumerate(calls):
            fn = call.get("function") or {}
            got = _brief(results[j].get("content"), limit) if j < len(results) else "no result"
            lines.append(f"{n}. {fn.get('name')}({fn.get('arguments')}) -> {got}")
    return "\n".join(lines)
