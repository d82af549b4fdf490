"""The deep-search environment's tools (synth.env.ToolBox) as harness tool functions.

A tool function takes the decoded arguments and returns a JSON-ready dict; a call that cannot run
(unknown tool, arguments that break the tool's schema) returns `{"error": CODE, "message": ...}`, an
observation the agent can recover from, never an exception. The ToolBox is opened lazily in the worker
(steps and tasks are pickled to workers; an open corpus is not picklable) and calls are serialized with a
lock: the corpus loads its indexes on first use and tools are cheap next to a model turn.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

TOOLS = ("search", "open", "visit")


def tool_function(toolbox: Any, name: str, lock: threading.Lock | None = None) -> Callable[[Any], dict]:
    lock = lock or threading.Lock()

    def run(arguments: Any) -> dict:
        from synth.env.tools import ToolError

        try:
            with lock:
                return toolbox.call(name, arguments)
        except ToolError as exc:
            return {"error": exc.code, "message": str(exc)}
    return run


def search_mode(corpus) -> str:
    """hybrid when the corpus has a dense index, else bm25 (a `--no-dense` corpus)."""
    return "hybrid" if (corpus.card.get("indexes") or {}).get("dense") else "bm25"


class EnvTools:
    """Tools over a CORPUS directory, opened on first use in whichever process runs them."""

    def __init__(self, corpus: str, names: tuple[str, ...] = TOOLS):
        self.corpus, self.names = str(corpus), tuple(names)
        self._box = None
        self._lock: threading.Lock | None = None

    def __getstate__(self) -> dict:
        return {"corpus": self.corpus, "names": self.names, "_box": None, "_lock": None}

    @property
    def toolbox(self):
        if self._box is None:
            from synth.env import Corpus, ToolBox

            corpus = Corpus(self.corpus)
            self._box = ToolBox(corpus, default_mode=search_mode(corpus))
            self._lock = threading.Lock()
        return self._box

    def functions(self) -> dict[str, Callable[[Any], dict]]:
        box = self.toolbox
        return {name: tool_function(box, name, self._lock) for name in self.names if name in box.tools}

    def schemas(self) -> list[dict]:
        return [s for s in self.toolbox.schemas() if s["function"]["name"] in self.names]

    def call(self, name: str, arguments: dict) -> dict:
        return self.functions()[name](arguments)

    def spec(self) -> dict:
        """The environment spec recorded with trajectories and rl tasks."""
        box = self.toolbox
        return {"type": "synth-env", "corpus": self.corpus, "corpus_version": box.corpus.version,
                "search_mode": box.default_mode, "tools": self.schemas(), "answer_format": "<answer>…</answer>"}


def result_text(result: Any) -> str:
    """How a tool result appears as message content."""
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)
