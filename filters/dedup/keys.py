"""Per-record dedup keys: the exact-text hash and the trajectory key (question, answer entity, evidence
document set, tool-call signature). 64-bit xxh3 hashes: stable across processes and machines, so they can
live in a persistent index; a chance collision among 10^6 records has probability ~3e-8.
"""

from __future__ import annotations

import json
import re

import xxhash
from synth.filters import text as tx

EVIDENCE_KEYS = ("url", "urls", "doc_id", "doc_ids", "document", "title", "link")  # not "page": a page number
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)


def hash64(text: str) -> int:
    return xxhash.xxh3_64_intdigest(text.encode("utf-8"))


def exact_hash(text: str) -> int:
    return hash64(tx.normalize(text))


def calls(record: dict):
    """(name, arguments dict or raw string) of every tool call, in order."""
    for message in record.get("messages") or []:
        for call in message.get("tool_calls") or []:
            function = (call or {}).get("function") or {}
            raw = function.get("arguments")
            try:
                arguments = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                arguments = raw
            yield str(function.get("name")), arguments


def _values(value) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value not in (None, "") else []


def evidence(record: dict, kind: str) -> list[str]:
    """The set of documents the record's answer rests on (sorted)."""
    found: set[str] = set()
    if kind == "deepsearch_task":
        found.update(str(f.get("doc_id")) for f in record.get("facts") or [] if f.get("doc_id"))
    gold = record.get("evidence")  # a trajectory's task evidence (schema: docs, answer_doc_id, facts)
    if isinstance(gold, dict):
        found.update(str(d) for d in gold.get("docs") or [] if d)
        found.update(str(f.get("doc_id")) for f in gold.get("facts") or [] if isinstance(f, dict) and f.get("doc_id"))
    for _, arguments in calls(record):
        if isinstance(arguments, dict):
            for key in EVIDENCE_KEYS:
                found.update(v.strip().rstrip("/") for v in _values(arguments.get(key)))
    return sorted(found)


def _canonical(value):
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return tx.normalize(value) if isinstance(value, str) else value


def tool_signature(record: dict) -> str:
    """The calls made, in order, with case/punctuation-folded arguments."""
    return "\n".join(f"{name}:{json.dumps(_canonical(args), sort_keys=True, ensure_ascii=False)}"
                     for name, args in calls(record))


def answer_entity(record: dict, kind: str) -> str:
    """Normalized gold answer, else the agent's answer (`predicted_answer`, `<answer>` tag, last line)."""
    for key in ("answer", "predicted_answer"):
        if isinstance(record.get(key), str) and record[key].strip():
            return tx.normalize(record[key])
    if kind == "trajectory":
        final = next((m.get("content") for m in reversed(record.get("messages") or [])
                      if m.get("role") == "assistant" and m.get("content")), "") or ""
        tagged = _ANSWER_TAG.findall(final)
        lines = [line for line in final.strip().splitlines() if line.strip()]
        return tx.normalize(tagged[-1] if tagged else (lines[-1] if lines else ""))
    return ""


def trajectory_key(record: dict, kind: str) -> tuple[int, str]:
    """(hash of the four-part key, normalized answer entity)."""
    question = tx.normalize(tx.query_text(record, kind))
    answer = answer_entity(record, kind)
    parts = [question, answer, "\x1f".join(evidence(record, kind)), tool_signature(record)]
    return hash64("\x1e".join(parts)), answer
