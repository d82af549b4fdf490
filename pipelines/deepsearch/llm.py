"""Teacher calls of the deep-search pipeline as pure functions: inputs -> messages, reply -> fields.

Prompts are the text files in prompts/ next to this module; every reply is JSON under a schema
(constrained decoding through the teacher layer). The answer judge is rule-based (normalized exact or
alias match) so a verdict never depends on a second model.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from synth.pipelines.deepsearch import text as tx

PROMPTS = Path(__file__).parent / "prompts"

SPECIFIC_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["specific", "reason"],
                   "properties": {"specific": {"type": "boolean"},
                                  "reason": {"type": "string", "maxLength": 80}}}
QUESTION_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["question"],
                   "properties": {"question": {"type": "string", "minLength": 10, "maxLength": 1200}}}
ANSWER_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["answer"],
                 "properties": {"answer": {"type": "string", "maxLength": 120}}}


@cache
def prompt(name: str) -> str:
    return (PROMPTS / f"{name}.txt").read_text(encoding="utf-8")


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def specificity_messages(title: str, category: str | None, opening: str) -> list[dict]:
    return user(prompt("specificity").format(title=title, category=category or "(none)", opening=opening[:300]))


def verbalize_messages(template: str, constraints: list[str], forbidden: list[str], type_noun: str) -> list[dict]:
    lines = "\n".join(f"- {c}" for c in constraints)
    return user(prompt("verbalize").format(template=template, constraints=lines, type=type_noun,
                                           forbidden=", ".join(sorted(set(forbidden))) or "(none)"))


def closed_book_messages(question: str) -> list[dict]:
    return user(prompt("closed_book").format(question=question))


# ---- the answer judge ----------------------------------------------------------------------------
_ARTICLES = re.compile(r"^(?:the|a|an)\s+")


def readable_question(text: str) -> str | None:
    """None when a rewritten question reads as a question; else why not (the template then stays)."""
    words = text.split()
    if len(words) < 5 or "?" not in text:
        return "not_a_question"
    letters = sum(ch.isalpha() or ch.isspace() for ch in text)
    return None if letters >= 0.8 * len(text) else "not_a_question"


def normalize_answer(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().strip()
    text = re.sub(r"[\"'`“”‘’.,;:!?()\[\]]", " ", text)
    return _ARTICLES.sub("", " ".join(text.split()))


def answer_matches(given: str | None, names: list[str]) -> bool:
    """Correct when the normalized answer equals a normalized name (title or alias), or a short answer
    (<= 12 words) mentions a name of 2+ characters as whole words (names under 4 characters must match
    case-sensitively: "ZBL" yes, "zbl" in running text no; see text.mentions)."""
    if not given:
        return False
    norm = normalize_answer(given)
    targets = [normalize_answer(n) for n in names if n.strip()]
    if norm in targets:
        return True
    if len(norm.split()) <= 12:
        return any(len(n) >= 2 and tx.mentions(given, n) for n in names)
    return False
