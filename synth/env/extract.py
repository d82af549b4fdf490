"""The teacher half of the `visit` tool: an LLM extract of a page's passages for a goal, under a schema.

The paper's visit tool has a model read the page and return the evidence for the agent's goal. Here the
ToolBox first ranks the page's sentence passages for the goal (MiniLM, deterministic); the teacher then
reads those passages (not the whole page: bounded prompts, and every quote can be traced to a span) and
answers under `VISIT_EXTRACT_SCHEMA` with structured decoding (synth.teachers.structured).

`TeacherExtractor` serves the synchronous ToolBox and `synth serve tools --teacher openai:URL`: one POST
per visit through synth.teachers.http (same transport, key from the environment only), temperature 0
and a fixed seed, so the cached result is what a re-run would get. Inside a teacher task (datatrove
InferenceRunner) use the same prompt with the task's session instead, so the call is in datatrove's
request cache and a resumed trajectory replays it:
`await session.json(extract_messages(goal, title, result["passages"]), VISIT_EXTRACT_SCHEMA)`.
A failed extract never breaks the tool: the result carries `extract_error` (a stable reason) and the
ranked passages, and such results are not cached.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from synth.env.tools import VISIT_EXTRACT_SCHEMA

MAX_PASSAGE_CHARS = 6000  # prompt budget for the passages shown to the teacher

SYSTEM = ("You read passages of one document for a research agent. Answer only from the passages. "
          "Reply with one JSON object with the keys rational, evidence and summary.")


def extract_messages(goal: str, title: str, passages: list[dict]) -> list[dict]:
    """The prompt: the goal, then the ranked passages (best first) with their character offsets."""
    shown, used = [], 0
    for p in passages:
        if used + len(p["text"]) > MAX_PASSAGE_CHARS and shown:
            break
        shown.append(f"[{p['rank']}] (chars {p['start']}-{p['end']}) {p['text']}")
        used += len(p["text"])
    body = "\n\n".join(shown) if shown else "(no passages)"
    user = (f"Goal: {goal}\nDocument: {title}\n\nPassages, most relevant first:\n{body}\n\n"
            "rational: which passages bear on the goal and why. evidence: the relevant sentences, quoted "
            "verbatim. summary: what the document says about the goal (say so if it does not answer it).")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


class ExtractFailed(Exception):
    def __init__(self, reason: str, detail: str = ""):
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


class TeacherExtractor:
    """A `VisitExtractor` that asks an OpenAI-compatible endpoint (a running vLLM server included)."""

    def __init__(self, base_url: str, model: str, *, structured: str = "json_schema", max_tokens: int = 1024,
                 timeout: float = 120.0, seed: int = 0):
        from synth.teachers.structured import constraint, resolve

        self.base_url, self.model = base_url, model
        self.name = f"teacher:{model}:seed{seed}"  # joins the cache key: another teacher, another result
        self._params = {"model": model, "temperature": 0.0, "max_tokens": max_tokens, "seed": seed,
                        **constraint(VISIT_EXTRACT_SCHEMA, resolve(structured, False), "visit_extract")}
        self._timeout = timeout
        self._local = threading.local()  # one event loop + pooled client per server thread

    def extract(self, goal: str, doc, passages: list[dict]) -> dict:
        from synth.teachers.errors import TeacherError, TeacherUnavailable, TransientError
        from synth.teachers.structured import parse

        payload = {"messages": extract_messages(goal, doc.title, passages), **self._params}
        try:
            reply = self._loop().run_until_complete(self._post(payload))
        except (TeacherError, TransientError) as exc:
            raise ExtractFailed(exc.reason, str(exc)) from None
        except TeacherUnavailable as exc:
            raise ExtractFailed("teacher_unavailable", str(exc)) from None
        choice = reply["choices"][0]
        text = (choice.get("message") or {}).get("content") or choice.get("text") or ""
        value, reason, detail = parse(text, choice.get("finish_reason"), VISIT_EXTRACT_SCHEMA)
        if reason is not None:
            raise ExtractFailed(reason, detail or "")
        return value

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop = getattr(self._local, "loop", None)
        if loop is None:
            from synth.teachers.http import make_client

            loop = self._local.loop = asyncio.new_event_loop()
            self._local.client = make_client(self._timeout, 4, self.base_url)
        return loop

    async def _post(self, payload: dict) -> Any:
        from synth.teachers.http import post_json

        return await post_json(self._local.client, self.base_url, "/chat/completions", payload)
