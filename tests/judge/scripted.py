"""A scripted judge for the fake OpenAI server: verdicts and scores follow `q=N` tags in the responses.

Candidates say "... q=N" (their true quality). The handler reads the judge prompt the way a model would
(Response A / Response B / Response to rate sections) and answers per the behaviour set for the prompt
(the conversation's first word names it):
    honest  A>B / B>A by quality, A=B when equal        strong  A>>B / B>>A by quality
    first   always A>B (pure position bias)             tie     always A=B
    half    A>B when A is better, else A=B              garbage a reply that is not JSON
Point-wise: every criterion scores q (or 11 - q for prompts named "inverted*", a constant 5 for "flat*", and
max(1, q - 2i) for the i-th criterion of "split*" prompts).
"""

from __future__ import annotations

import json
import re

from tests.core.helpers import write_jsonl
from tests.teachers.fake_openai import Say, last_user

CRITERION = re.compile(r"^- ([a-z0-9_]+) \(weight", re.MULTILINE)
QUALITY = re.compile(r"q=(\d+)")


def _section(text: str, title: str) -> str:
    start = text.index(f"[{title}]")
    end = text.find("\n[", start + 1)
    return text[start:end if end > 0 else None]


def quality(text: str, title: str) -> int:
    return int(QUALITY.search(_section(text, title)).group(1))


def prompt_name(text: str) -> str:
    return _section(text, "Conversation").split("USER: ", 1)[1].split()[0]


def verdict(mode: str, qa: int, qb: int) -> str:
    better = "A" if qa > qb else "B" if qb > qa else None
    if mode == "first":
        return "A>B"
    if mode == "tie" or better is None:
        return "A=B"
    if mode == "half":
        return "A>B" if better == "A" else "A=B"
    strong = mode == "strong"
    return {"A": "A>>B" if strong else "A>B", "B": "B>>A" if strong else "B>A"}[better]


def point_score(name: str, q: int, index: int = 0) -> int:
    if name.startswith("split"):
        return max(1, q - 2 * index)
    if name.startswith("inverted"):
        return 11 - q
    if name.startswith("flat"):
        return 5
    return q


def judge(behaviour: dict[str, str] | None = None):
    behaviour = behaviour or {}

    def handler(req):
        text = last_user(req)
        name = prompt_name(text)
        mode = next((m for prefix, m in behaviour.items() if name.startswith(prefix)), "honest")
        if mode == "garbage":
            return Say("I would rather not say.")
        if "[Response A]" in text:
            v = verdict(mode, quality(text, "Response A"), quality(text, "Response B"))
            return Say(json.dumps({"analysis": f"{mode} judge", "verdict": v}))
        q = quality(text, "Response to rate")
        return Say(json.dumps({c: {"rationale": f"{c} looks like {point_score(name, q, i)}",
                                   "score": point_score(name, q, i)} for i, c in enumerate(CRITERION.findall(text))}))

    return handler


def kind_of(req) -> str:
    return "pairwise" if "[Response A]" in last_user(req) else "pointwise"


def candidates(path, prompts: dict[str, list[int]], **extra) -> str:
    """One candidate record per (prompt, quality), in the shape `synth generate responses` writes."""
    rows = []
    for name, qualities in prompts.items():
        for k, q in enumerate(qualities):
            rows.append({"id": f"{name}-{k}", "task_id": name,
                         "messages": [{"role": "user", "content": f"{name} question?"},
                                      {"role": "assistant", "content": f"answer {k} q={q}"}],
                         "metadata": {"prompt_id": name, "candidate": k}, **extra})
    return str(write_jsonl(path, rows))
