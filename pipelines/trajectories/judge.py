"""The answer judge: normalized exact match, alias match, and an LLM judge under a JSON schema.

`match` is the rule: case, accents, punctuation, articles and spacing do not count; the prediction must
equal the gold answer or one of its aliases (a prediction that merely *contains* the answer, such as a
hedge listing three candidates, is not accepted). `llm_judge` asks a teacher when the rule says no, for
paraphrases the rule cannot see ("the Epsom Derby" for "English horse race Derby").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

JUDGE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["correct", "reason"],
    "properties": {"correct": {"type": "boolean"}, "reason": {"type": "string", "maxLength": 200}},
}
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = re.compile(r"[^\w\s]")


@dataclass
class Judgement:
    correct: bool | None
    method: str | None       # exact | alias | llm | none
    reason: str | None = None

    def to_record(self) -> dict:
        return asdict(self)


def normalize(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _PUNCT.sub(" ", text.replace("_", " "))
    return " ".join(_ARTICLES.sub(" ", text).split())


def match(predicted: str | None, answer: str | None, aliases: list[str] | None = None) -> Judgement:
    if not answer:
        return Judgement(None, "none", "no gold answer to compare with")
    if not predicted or not predicted.strip():
        return Judgement(False, "exact", "no answer given")
    got = normalize(predicted)
    if got == normalize(answer):
        return Judgement(True, "exact", None)
    for alias in aliases or []:
        if alias and got == normalize(alias):
            return Judgement(True, "alias", f"matches alias {alias!r}")
    return Judgement(False, "exact", f"{predicted[:80]!r} matches neither the answer nor an alias")


def judge_messages(question: str | None, answer: str, aliases: list[str] | None, predicted: str) -> list[dict]:
    from synth.pipelines.trajectories.harness import prompt

    text = (prompt("judge.txt").replace("{question}", question or "(not given)").replace("{answer}", answer)
            .replace("{aliases}", ", ".join(aliases or []) or "(none)").replace("{predicted}", predicted))
    return [{"role": "user", "content": text}]


async def llm_judge(session, question: str | None, answer: str, aliases: list[str] | None, predicted: str,
                    tag: str) -> Judgement:
    """The teacher's verdict (schema-validated JSON). TeacherError propagates to the caller."""
    reply = await session.json(judge_messages(question, answer, aliases, predicted), JUDGE_SCHEMA, tag=tag,
                               name="judgement")
    return Judgement(bool(reply["correct"]), "llm", reply.get("reason") or None)


async def judge(session, question: str | None, answer: str | None, aliases: list[str] | None,
                predicted: str | None, tag: str, use_llm: bool) -> Judgement:
    """Rule first; the LLM only when the rule says no and there is a prediction to discuss."""
    verdict = match(predicted, answer, aliases)
    if verdict.correct is False and use_llm and session is not None and predicted and predicted.strip():
        return await llm_judge(session, question, answer or "", aliases, predicted, tag)
    return verdict
