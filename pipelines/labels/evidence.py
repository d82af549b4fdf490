"""Gold evidence and what a trajectory has reached of it, call by call.

The evidence of a deep-search task is its answer document, its gold documents (every document a fact is
quoted from or points to) and its facts (verbatim quotes with character spans). A tool result *reaches*
a gold document when a search lists it or open/visit returns it, and *reads* a fact when the page or passage
it returns covers the fact's span. Information gain of a call = gold documents reached + facts read for
the first time. The gold-path generator and the rule judge both measure with this class, on the real
tool results stored in the trajectory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


def evidence_of(task: dict) -> dict:
    """The `evidence` field of a trajectory, from a deepsearch_task record."""
    facts = [{k: f.get(k) for k in ("kind", "subject", "subject_id", "relation", "object", "object_id",
                                     "doc_id", "start", "end", "quote")} for f in task.get("facts") or []]
    docs = {f["doc_id"] for f in facts} | {f["object_id"] for f in facts if f.get("object_id")}
    if task.get("answer_doc_id"):
        docs.add(task["answer_doc_id"])
    return {"answer_doc_id": task.get("answer_doc_id"), "docs": sorted(docs), "facts": facts}


@dataclass
class Gain:
    docs: list[str] = field(default_factory=list)     # gold documents reached for the first time
    facts: list[int] = field(default_factory=list)    # indices of facts read for the first time
    touched: bool = False                             # the result concerned gold evidence at all
    error: str | None = None

    @property
    def positive(self) -> bool:
        return bool(self.docs or self.facts)


def _json(content: str | None):
    try:
        value = json.loads(content or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class Evidence:
    def __init__(self, evidence: dict | None):
        evidence = evidence or {}
        self.docs = set(evidence.get("docs") or [])
        self.facts = list(evidence.get("facts") or [])
        self.reached: set[str] = set()
        self.read: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.docs or self.facts)

    def _spans_read(self, doc_id: str, spans: list[tuple[int, int]]) -> list[int]:
        return [i for i, f in enumerate(self.facts)
                if f.get("doc_id") == doc_id and any(a <= f["start"] and f["end"] <= b for a, b in spans)]

    def measure(self, name: str, content: str | None, commit: bool = True) -> Gain:
        """The gain of one tool result; `commit=False` measures without remembering (probing)."""
        from synth.pipelines.trajectories.messages import result_error

        error = result_error(content)
        if error is not None:
            return Gain(error=error)
        value = _json(content) or {}
        docs, facts = [], []
        if isinstance(value.get("results"), list):          # search
            docs = [r.get("doc_id") for r in value["results"] if isinstance(r, dict)]
        elif value.get("doc_id") is not None:                # open / visit
            docs = [value["doc_id"]]
            if "text" in value and value.get("start") is not None:
                facts = self._spans_read(value["doc_id"], [(value["start"], value["end"])])
            elif isinstance(value.get("passages"), list):
                facts = self._spans_read(value["doc_id"], [(p["start"], p["end"]) for p in value["passages"]])
        gold_docs = [d for d in docs if d in self.docs]
        gain = Gain(docs=sorted(set(gold_docs) - self.reached), facts=sorted(set(facts) - self.read),
                    touched=bool(gold_docs or facts))
        if commit:
            self.reached.update(gain.docs)
            self.read.update(gain.facts)
        return gain
