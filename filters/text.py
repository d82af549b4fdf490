"""Text views of records, normalization and tokenization shared by the quality, dedup and decontam filters.

Each record kind has three views:
  * `dedup_text`  – what near-duplicate detection compares (a trajectory is its whole conversation minus
    the system prompt: two rollouts of one question are *not* duplicates unless they say the same thing);
  * `query_text`  – the task statement that decontamination compares with benchmark questions;
  * `full_text`   – everything a model would be trained on (token budget, repetition, refusals).
"""

from __future__ import annotations

import json
import re
import unicodedata

from datatrove.utils.word_tokenizers import WordTokenizer

# One token per CJK character (Chinese has no spaces; BrowseComp-ZH and xbench are Chinese), one per run
# of other word characters. Used for 13-gram decontamination, MinHash shingles and token estimates.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_NON_WORD = re.compile(r"[\W_]+")
_PIECES = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")


def normalize(text: str) -> str:
    """Case, width, punctuation and whitespace folded away: the form exact dedup hashes."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """Tokens of normalized text (CJK characters one by one)."""
    return _TOKEN.findall(normalize(text))


def estimate_tokens(text: str) -> int:
    """Subword-token estimate without a tokenizer: words, punctuation marks and CJK characters, with
    words longer than 6 characters counted twice (BPE vocabularies split them)."""
    pieces = _PIECES.findall(text)
    return len(pieces) + sum(1 for p in pieces if len(p) > 6)


class SimpleWordTokenizer(WordTokenizer):
    """datatrove word tokenizer for MinHash shingles: language-agnostic, no spaCy/NLTK models needed."""

    def __init__(self):
        super().__init__("multilingual")

    def word_tokenize(self, text: str) -> list[str]:
        return _TOKEN.findall(text)

    def sent_tokenize(self, text: str) -> list[str]:
        return [text]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))]


def _content(message: dict) -> str:
    parts = [message.get("reasoning_content") or "", message.get("content") or ""]
    for call in message.get("tool_calls") or []:
        function = (call or {}).get("function") or {}
        parts.append(f"{function.get('name', '')}({function.get('arguments', '')})")
    return "\n".join(p for p in parts if p)


def _messages_text(messages, skip_system: bool = True) -> str:
    if not isinstance(messages, list):
        return ""
    chosen = [m for m in messages if isinstance(m, dict) and not (skip_system and m.get("role") == "system")]
    return "\n".join(t for t in map(_content, chosen) if t)


def first_user(messages) -> str:
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"]
    return ""


def query_text(record: dict, kind: str) -> str:
    """The task statement: question, prompt, or first user turn."""
    if kind == "code_problem":
        return record.get("prompt") or ""
    if kind == "preference_pair":
        return _messages_text(record.get("prompt"))
    if isinstance(record.get("question"), str) and record["question"].strip():
        return record["question"]
    if kind == "trajectory":
        return first_user(record.get("messages"))
    return generic_text(record)


def dedup_text(record: dict, kind: str) -> str:
    if kind == "trajectory":
        return _messages_text(record.get("messages"))
    if kind == "preference_pair":
        return "\n".join(_messages_text(record.get(k)) for k in ("prompt", "chosen", "rejected"))
    if kind == "code_problem":
        return record.get("prompt") or ""
    return query_text(record, kind)


def full_text(record: dict, kind: str) -> str:
    if kind == "trajectory":
        return _messages_text(record.get("messages"), skip_system=False)
    if kind == "preference_pair":
        return "\n".join(_messages_text(record.get(k), False) for k in ("prompt", "chosen", "rejected"))
    if kind == "code_problem":
        return "\n".join(str(record.get(k) or "") for k in ("prompt", "reference_solution"))
    if kind == "deepsearch_task":
        return f"{record.get('question') or ''}\n{record.get('answer') or ''}"
    return generic_text(record)


def generic_text(record: dict) -> str:
    for key in ("question", "prompt", "text", "problem", "instruction", "input", "content"):
        if isinstance(record.get(key), str):
            return record[key]
    for key in ("messages", "prompt", "conversations"):
        if isinstance(record.get(key), list):
            return _messages_text(record[key])
    return json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)


def verified_score(record: dict, kind: str) -> float:
    """How much verification backs a record: the first key of the keep-one policy (more is kept)."""
    if kind == "deepsearch_task":
        checks = record.get("verification") or {}
        return float(sum(1 for v in checks.values() if isinstance(v, dict) and v.get("status") == "passed"))
    if kind == "trajectory":
        return 1.0 if ((record.get("judgement") or {}).get("correct") is True) else 0.0
    if kind == "code_problem":
        return float(len(record.get("tests") or [])) + float(record.get("mutation_score") or 0.0)
    if kind == "preference_pair":
        return float(len(record.get("verdicts") or []))
    value = record.get("verified")
    return float(value) if isinstance(value, (bool, int, float)) else 0.0
