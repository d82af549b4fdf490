"""Provenance of tool calls: could an agent that knew only the question and the earlier tool results
have made this call?

    search  every content word of the query (normalised: case, accents, punctuation) occurs in the question
            or in an earlier tool result
    open / visit  the document appeared in an earlier search result, or is linked from an opened page
            (a title the question itself names is allowed too: an agent may open what it was told about)

A violation is {turn, tool, reason, detail}. A teacher may know things: `hidden` (the task's entity titles
that the question does not name) turns a violation whose query names one of them before any tool showed it
into the sharper `names_hidden_entity`.
"""

from __future__ import annotations

import json
import re
import unicodedata

from synth.pipelines.trajectories.clues import STOP
from synth.pipelines.trajectories.messages import parse_arguments, turns

_PUNCT = re.compile(r"[^\w\s]")


def norm_words(text: str | None) -> set[str]:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return set(_PUNCT.sub(" ", text.replace("_", " ")).split())


def _query_words(query: str) -> set[str]:
    # the same normalisation as the vocabulary (accents folded first: "Système" is one word, not "syst" + "me")
    return {w for w in norm_words(query) if w not in STOP}


def _seen_docs(content: str | None) -> set[str]:
    """doc ids a result makes known: search results and links of an opened page."""
    try:
        value = json.loads(content or "")
    except ValueError:
        return set()
    if not isinstance(value, dict):
        return set()
    docs = {r.get("doc_id") for r in value.get("results") or [] if isinstance(r, dict)}
    docs |= {link.get("doc_id") for link in value.get("links") or [] if isinstance(link, dict)}
    return {d for d in docs if isinstance(d, str)}


class Tracker:
    """What an agent has seen so far; `check` one call, `observe` its result."""

    def __init__(self, question: str, hidden: list[str] | None = None):
        self.vocab = norm_words(question)
        self.docs: set[str] = set()
        self.question = question
        self.hidden = {h: norm_words(h) for h in hidden or [] if h and norm_words(h)}

    def check(self, name: str, arguments: dict) -> tuple[str, str] | None:
        if name == "search":
            query = str(arguments.get("query") or "")
            unseen = sorted(_query_words(query) - self.vocab)
            if not unseen:
                return None
            named = [h for h, ws in self.hidden.items() if ws <= _query_words(query) and not ws <= self.vocab]
            if named:
                return "names_hidden_entity", f"query {query!r} names {named[0]!r} before any tool showed it"
            return "unseen_query_words", f"query {query!r}: {', '.join(unseen[:6])} seen nowhere before"
        if name in ("open", "visit"):
            doc = str(arguments.get("doc_id") or "")
            if doc in self.docs or (doc and doc.lower() in self.question.lower()):
                return None
            return "unseen_document", f"{name} {doc!r}: not in an earlier result or link"
        return None

    def observe(self, content: str | None) -> None:
        self.vocab |= norm_words(content)
        self.docs |= _seen_docs(content)


def violations(record: dict, hidden: list[str] | None = None) -> list[dict]:
    """Every call of a trajectory that an agent could not have made from what it had seen."""
    messages = record.get("messages") or []
    question = record.get("question") or next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
    tracker = Tracker(question, hidden)
    found = []
    for n, turn in enumerate(turns(messages)):
        for step in turn.steps:
            fn = step.call.get("function") or {}
            args = parse_arguments(fn.get("arguments"))
            problem = tracker.check(fn.get("name") or "", args if isinstance(args, dict) else {})
            if problem:
                found.append({"turn": n, "tool": fn.get("name"), "reason": problem[0], "detail": problem[1]})
        for step in turn.steps:
            tracker.observe(step.result)
    return found


def hidden_entities(task: dict) -> list[str]:
    """The titles a deep-search task hides: every fact's subject and linked object the question does not name."""
    question = norm_words(task.get("question"))
    names = {f.get(k) for f in task.get("facts") or [] for k in ("subject", "object_id") if f.get(k)}
    names.add(task.get("answer"))
    return sorted(n for n in names if n and not norm_words(n) <= question)


def hidden_in_evidence(record: dict) -> list[str]:
    """hidden_entities for a trajectory record (its `evidence` holds the task's facts)."""
    evidence = record.get("evidence") or {}
    return hidden_entities({"question": record.get("question"), "answer": record.get("answer"),
                            "facts": evidence.get("facts") or []})


def run_stats(records) -> dict:
    """Provenance over a run: calls checked, violations by reason, their rate, trajectories with any."""
    from collections import Counter

    calls = flagged = 0
    reasons: Counter = Counter()
    for record in records:
        found = violations(record, hidden_in_evidence(record))
        calls += sum(len(m.get("tool_calls") or []) for m in record.get("messages") or [] if m.get("role") == "assistant")
        reasons.update(v["reason"] for v in found)
        flagged += bool(found)
    total = sum(reasons.values())
    return {"tool_calls": calls, "violations": total, "violation_rate": round(total / calls, 4) if calls else None,
            "trajectories_with_violations": flagged, "by_reason": dict(sorted(reasons.items()))}
