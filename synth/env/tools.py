"""The agent tools over a corpus: search, open, visit (and python through `synth.sandbox`).

`ToolBox.call(name, arguments)` validates the arguments against the tool's OpenAI function schema,
fills defaults, looks the result up in the cache under (tool, arguments, corpus version) and returns a
JSON-ready dict. Results are deterministic. With `question=...` the leak guard drops results sharing a
13-gram with that question (applied after the cache, so one cache serves every question).

`visit` ranks a document's sentence passages for the goal with MiniLM and shows each best match with the
sentences around it. An LLM extract (the paper's visit tool) plugs in as a `VisitExtractor`
(synth.env.extract: `TeacherExtractor`, or `visit_extract` inside a teacher task); its `name` joins the
cache key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from synth.env import chunks
from synth.env.cache import MemoryCache, ToolCache, cache_key
from synth.env.corpus import MODES, Corpus, Doc
from synth.env.leak import LeakGuard

MAX_K = 50
OUTPUT_CHARS = 8000

# What a teacher-backed extractor must return (structured output schema for the teacher call).
VISIT_EXTRACT_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["rational", "evidence", "summary"],
    "properties": {
        "rational": {"type": "string", "description": "Which parts of the page bear on the goal, and why."},
        "evidence": {"type": "string", "description": "The most relevant passages, quoted verbatim."},
        "summary": {"type": "string", "description": "What the page says about the goal, concisely."},
    },
}


class VisitExtractor(Protocol):
    name: str  # e.g. "teacher:openai:MODEL"; part of the cache key

    def extract(self, goal: str, doc: Doc, passages: list[dict]) -> dict:
        """An object following VISIT_EXTRACT_SCHEMA."""


class ToolError(ValueError):
    """A call that cannot run: unknown tool or invalid arguments (HTTP 400 in the tool server)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict
    run: Callable[..., dict]

    def schema(self) -> dict:
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}


def _params(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


DOC_ID = {"type": "string", "description": "A doc_id from search results (a page title also works)."}


class ToolBox:
    def __init__(self, corpus: Corpus, *, cache: ToolCache | None = None, extractor: VisitExtractor | None = None,
                 sandbox: Any = None, default_mode: str = "hybrid"):
        self.corpus = corpus
        self.cache = cache if cache is not None else MemoryCache()
        self.extractor = extractor
        self.sandbox = sandbox
        self.default_mode = default_mode
        self.tools: dict[str, Tool] = {t.name: t for t in self._tools()}

    def _tools(self) -> list[Tool]:
        tools = [
            Tool("search", "Search the document collection. Returns ranked documents with a snippet each; "
                 "open or visit a doc_id to read it.",
                 _params({"query": {"type": "string", "minLength": 1, "description": "Keywords or a question."},
                          "k": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 10},
                          "mode": {"type": "string", "enum": list(MODES), "default": self.default_mode,
                                   "description": "bm25 (keywords), dense (meaning) or hybrid (both, fused)."}},
                         ["query"]), self._search),
            Tool("open", "Read a document page by page (pages of about 3,000 characters), with the links "
                 "it contains.",
                 _params({"doc_id": DOC_ID, "page": {"type": "integer", "minimum": 0, "default": 0}}, ["doc_id"]),
                 self._open),
            Tool("visit", "Read the passages of a document that matter for a goal, best first: each is the "
                 "best-matching sentence with the sentences around it.",
                 _params({"doc_id": DOC_ID, "goal": {"type": "string", "minLength": 1,
                                                     "description": "What you want to learn from the page."},
                          "k": {"type": "integer", "minimum": 1, "maximum": 20, "default": 3}},
                         ["doc_id", "goal"]), self._visit),
        ]
        if self.sandbox is not None:
            tools.append(Tool("python", "Run Python 3 code in an isolated sandbox (no network, no files "
                              "outside /tmp) and return its stdout and stderr. Print what you need.",
                              _params({"code": {"type": "string", "minLength": 1}}, ["code"]), self._python))
        return tools

    def warm(self) -> None:
        """Load what the tools use (graph, indexes, encoder) before serving concurrent calls."""
        indexes = self.corpus.card.get("indexes", {})
        _ = self.corpus.graph, self.corpus.titles
        if indexes.get("bm25"):
            _ = self.corpus.bm25
        if indexes.get("dense"):
            self.corpus.dense.search("warm up", 1)

    def schemas(self) -> list[dict]:
        """OpenAI `tools=` entries, in a stable order."""
        return [t.schema() for t in self.tools.values()]

    # ---- dispatch -------------------------------------------------------------------------------
    def normalize(self, name: str, arguments: dict | str | None) -> dict:
        tool = self.tools.get(name)
        if tool is None:
            raise ToolError("unknown_tool", f"{name!r}; available: {', '.join(self.tools)}")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError as exc:
                raise ToolError("invalid_arguments", f"arguments are not JSON: {exc.msg}") from None
        arguments = dict(arguments or {})
        from jsonschema import Draft202012Validator

        error = next(iter(Draft202012Validator(tool.parameters).iter_errors(arguments)), None)
        if error is not None:
            where = ".".join(map(str, error.absolute_path)) or "arguments"
            raise ToolError("invalid_arguments", f"{name}: {where}: {error.message}")
        for key, spec in tool.parameters["properties"].items():
            if key not in arguments and "default" in spec:
                arguments[key] = spec["default"]
        return arguments

    def call(self, name: str, arguments: dict | str | None = None, *, question: str | None = None) -> dict:
        arguments = self.normalize(name, arguments)
        version = self.corpus.version + (f"|{self.extractor.name}" if name == "visit" and self.extractor else "")
        key = cache_key(name, arguments, version)
        cached = self.cache.get(key)
        if cached is None:
            result = self.tools[name].run(**arguments)
            cached = json.dumps(result, ensure_ascii=False, sort_keys=True)
            if "extract_error" not in result:  # a failed teacher call may succeed next time
                self.cache.put(key, cached)
        result = json.loads(cached)
        if question:
            guard = LeakGuard(question)
            if guard:
                result = self._guard(name, result, guard)
        return result

    # ---- tools ----------------------------------------------------------------------------------
    def _search(self, query: str, k: int, mode: str) -> dict:
        results = []
        for hit in self.corpus.search(query, k, mode):
            doc = self.corpus.doc(hit.row)
            start, end = chunks.snippet(doc.text, query)
            results.append({"rank": hit.rank, "doc_id": doc.id, "title": doc.title, "score": hit.score,
                            "snippet": doc.text[start:end], "snippet_start": start, "snippet_end": end,
                            "updated_at": doc.updated_at})
        return {"query": query, "mode": mode, "results": results}

    def _resolve(self, ref: str) -> tuple[Doc | None, dict]:
        doc = self.corpus.lookup(ref)
        if doc is None:
            return None, {"error": "doc_not_found", "doc_id": ref,
                          "message": f"no document with id or title {ref!r}; use search to find one"}
        extra = {"resolved_from": ref} if ref != doc.id else {}
        return doc, extra

    def _open(self, doc_id: str, page: int) -> dict:
        doc, extra = self._resolve(doc_id)
        if doc is None:
            return extra
        spans = chunks.pages(doc.text)
        if page >= len(spans):
            return {"error": "page_out_of_range", "doc_id": doc.id, "page": page, "num_pages": len(spans)}
        start, end = spans[page]
        links = [{"anchor": link.anchor, "doc_id": self.corpus.doc(link.dst_row).id,
                  "start": link.start, "end": link.end}
                 for link in self.corpus.graph.links_from(doc.row)
                 if (start <= link.start < end if link.start is not None else page == 0)]
        return {"doc_id": doc.id, "title": doc.title, "page": page, "num_pages": len(spans), "start": start,
                "end": end, "text": doc.text[start:end], "links": links, "updated_at": doc.updated_at,
                "categories": doc.categories, **extra}

    def _visit(self, doc_id: str, goal: str, k: int) -> dict:
        doc, extra = self._resolve(doc_id)
        if doc is None:
            return extra
        spans, scores = self.corpus.rank_passages(doc, goal)
        passages: list[dict] = []
        for i in sorted(range(len(spans)), key=lambda i: (-round(float(scores[i]), 6), i)):
            if len(passages) == k:
                break
            if any(p["start"] <= spans[i][0] and spans[i][1] <= p["end"] for p in passages):
                continue  # already shown inside an earlier passage's context
            start, end = chunks.window(spans, i)
            passages.append({"rank": len(passages) + 1, "score": round(float(scores[i]), 6), "start": start,
                             "end": end, "text": doc.text[start:end], "match_start": spans[i][0],
                             "match_end": spans[i][1]})
        result = {"doc_id": doc.id, "title": doc.title, "goal": goal, "num_passages": len(spans),
                  "passages": passages, "updated_at": doc.updated_at, **extra}
        if self.extractor is not None:
            try:
                result["extract"] = self.extractor.extract(goal, doc, passages)
            except Exception as exc:  # noqa: BLE001 - the passages still answer; the agent sees why not more
                result["extract"] = None
                result["extract_error"] = getattr(exc, "reason", None) or "extract_failed"
        return result

    def _python(self, code: str) -> dict:
        run = self.sandbox.run_source(code)
        clip = lambda s: s if len(s) <= OUTPUT_CHARS else s[:OUTPUT_CHARS] + "\n[... truncated]"
        return {"status": run.status, "stdout": clip(run.stdout.decode("utf-8", "replace")),
                "stderr": clip(run.stderr), "exit_code": run.exit_code}

    # ---- leak guard -----------------------------------------------------------------------------
    def _guard(self, name: str, result: dict, guard: LeakGuard) -> dict:
        if name == "search":
            kept = [r for r in result["results"] if not guard.leaks(self.corpus.get(r["doc_id"]).text)]
            return {**result, "results": kept, "dropped_by_leak_guard": len(result["results"]) - len(kept)}
        if name == "open" and "text" in result and guard.leaks(result["text"]):
            return {"error": "blocked_by_leak_guard", "doc_id": result["doc_id"], "page": result["page"],
                    "message": "this page shares a 13-word sequence with the question"}
        if name == "visit" and "passages" in result:
            kept = [p for p in result["passages"] if not guard.leaks(p["text"])]
            out = {**result, "passages": kept, "dropped_by_leak_guard": len(result["passages"]) - len(kept)}
            if len(kept) < len(result["passages"]) and "extract" in out:
                out["extract"] = None  # it was written from a passage that leaks
            return out
        return result


def default_sandbox() -> Any | None:
    """`synth.sandbox.Sandbox` when it can run here, else None (the python tool is then not offered)."""
    try:
        from synth.sandbox import Limits, Sandbox

        return Sandbox(Limits(cpu_s=10, wall_s=20.0))
    except Exception:  # noqa: BLE001 - no backend on this machine: leave the tool out, never fake it
        return None
