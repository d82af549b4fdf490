"""The one adapter between synth records (plain dicts) and datatrove `Document`s.

A record travels through a datatrove pipeline inside `Document.metadata["synth"]`; `Document.text` holds
the text that text-level datatrove steps (MinHash, decontamination, stats) should see, and
`Document.id` the record id. A step that drops a record does not swallow it: it marks the document as a
reject, so the writer can put it in `rejects/` with its stable reason and resume stays exact (every input
item yields exactly one document).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from datatrove.data import Document

KEY = "synth"
REASON = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Reject:
    """Why a record was dropped. `reason` is stable snake_case (users grep and count it)."""

    reason: str
    detail: str | None = None

    def __post_init__(self):
        if not REASON.match(self.reason):
            raise ValueError(f"reject reason must be snake_case, got {self.reason!r}")


def record_text(record: dict) -> str:
    """Default text view of a record: what dedup/decontamination compare."""
    for key in ("question", "prompt", "text"):
        if isinstance(record.get(key), str):
            return record[key]
    messages = record.get("messages") or record.get("prompt")
    if isinstance(messages, list):
        return "\n".join(_content_text(m.get("content")) for m in messages if isinstance(m, dict))
    return ""


def _content_text(content: Any) -> str:
    """Message content as text: a string, or OpenAI's list of parts ({type: text, text})."""
    if isinstance(content, list):
        return "".join(p.get("text") or "" if isinstance(p, dict) else str(p) for p in content)
    return content if isinstance(content, str) else ""


def to_document(record: dict, *, key: str, chunk: int, text: Callable[[dict], str] = record_text) -> Document:
    """Wrap a record. `key` is its stable position key (resume skips done keys); `chunk` its resume unit."""
    return Document(
        text=text(record),
        id=str(record.get("id", key)),
        metadata={KEY: {"record": record, "key": key, "chunk": chunk}},
    )


def record_of(doc: Document) -> dict:
    return doc.metadata[KEY]["record"]


def set_record(doc: Document, record: dict, text: Callable[[dict], str] | None = None) -> Document:
    doc.metadata[KEY]["record"] = record
    if text is not None:
        doc.text = text(record)
    return doc


def extra_records(doc: Document) -> list[dict]:
    """Further output records produced from the same input (e.g. k rollouts of one task)."""
    return doc.metadata[KEY].get("extra", [])


def add_records(doc: Document, records: list[dict]) -> None:
    doc.metadata[KEY].setdefault("extra", []).extend(records)


def mark_reject(doc: Document, reject: Reject, step: str, raw: Any = None) -> Document:
    """Turn the document into a reject. `raw` (e.g. a teacher's unparsable text) is kept for debugging."""
    meta = doc.metadata[KEY]
    meta["reject"] = {"reason": reject.reason, "detail": reject.detail, "step": step}
    if raw is not None:
        meta["raw"] = raw
    return doc


def add_reject(doc: Document, reject: Reject, step: str, record: dict | None = None, raw: Any = None) -> None:
    """File one more reject for this input while the document itself is kept (e.g. 1 of K teacher samples
    failed): the writer puts it in rejects/ next to the kept records of the same input."""
    doc.metadata[KEY].setdefault("extra_rejects", []).append(
        {"reason": reject.reason, "detail": reject.detail, "step": step, "record": record,
         "raw": raw if isinstance(raw, str) else None})


def extra_rejects(doc: Document) -> list[dict]:
    return doc.metadata[KEY].get("extra_rejects", [])


def reject_of(doc: Document) -> dict | None:
    return doc.metadata[KEY].get("reject")


def add_usage(doc: Document, **counts: int) -> None:
    """Accumulate teacher usage (prompt_tokens, completion_tokens, requests...) for the manifest."""
    usage = doc.metadata[KEY].setdefault("usage", {})
    for name, value in counts.items():
        usage[name] = usage.get(name, 0) + int(value)


def usage_of(doc: Document) -> dict[str, int]:
    return doc.metadata[KEY].get("usage", {})
