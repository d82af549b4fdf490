"""The answer judge: normalized exact match, alias match, and an LLM judge under a JSON schema.

`match` is the rule: case, accents, punctuation, articles and spacing do not count; the prediction must
equal the gold answer or one of its aliases, or give it as its leading span ("Yes, Ketevan…" for "Yes"), or
as an emphasised (**bold**) span, or, for numbers, the same number in digits or words ("two hundred and
ninety eight", "12 players" for "TWELVE"). A hedge listing candidates ("Python, Perl or Ruby") is not an
answer: the leading clause may not offer alternatives. `llm_judge` asks a teacher when the rule says no, for
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
    for gold in [answer, *(aliases or [])]:
        method = gold and _loose(predicted, gold)
        if method:
            return Judgement(True, method, f"{gold!r} as the prediction's {method.replace('_', ' ')}")
    return Judgement(False, "exact", f"{predicted[:80]!r} matches neither the answer nor an alias")


_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|(?<![*\w])\*([^*\n]+?)\*(?![*\w])", re.DOTALL)
_PAREN = re.compile(r"\([^)]*\)?")
_QUALIFIER = re.compile(r",\s|\s[-–—]\s|\s(?:by|from)\s")
_DECADE = re.compile(r"^(\d{3})0\s*[-–]\s*(\d{3})9$")
_CLAUSE = re.compile(r"[.,;:!?\n(—–-]\s")
_UNITS = {w: i for i, w in enumerate(("zero one two three four five six seven eight nine ten eleven twelve "  # noqa: SIM905
                                      "thirteen fourteen fifteen sixteen seventeen eighteen nineteen").split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split())  # noqa: SIM905
         if i > 1}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10}


def _loose(predicted: str, gold: str) -> str | None:
    """leading_span | emphasis | number, when the prediction gives `gold` in one of those ways."""
    want = normalize(gold)
    if not want:
        return None
    lead = normalize(_CLAUSE.split(predicted.strip().lstrip("*_ "), maxsplit=1)[0])
    opening = normalize(_first_sentence(predicted)).split()[:8]
    if (lead == want or lead.startswith(want + " ")) and "or" not in opening:
        return "leading_span"
    spans = [normalize(a or b or c) for a, b, c in _BOLD.findall(predicted)]
    for variant in _variants(gold):
        if any(_same_span(span, variant) for span in spans):
            return "emphasis"
        if len(variant.split()) >= 2 and f" {variant} " in f" {normalize(_sentences(predicted, 2))} ":
            return "contained"
    decade = _DECADE.match(gold.strip())
    if decade and decade.group(1) == decade.group(2) and f"{decade.group(1)}0s" in predicted:
        return "number"          # "1930-1939" for "the 1930s"
    number = _number(gold)
    if number is not None:
        if spans and any(_numbers(span)[:1] == [number] for span in spans):
            return "number"
        if not spans and number in _numbers(normalize(_sentences(predicted, 3))):
            return "number"
    return None


def _variants(gold: str) -> list[str]:
    """The gold answer, without a parenthetical ("Goodfellas (film)"), and its head before a comma."""
    bare = _PAREN.sub(" ", gold)
    head = _QUALIFIER.split(bare, maxsplit=1)[0]   # "The Archers - Radio Soap", "Leviathan by Thomas Hobbes"
    return [v for v in dict.fromkeys([normalize(gold), normalize(bare), normalize(head)]) if v]


def _same_span(span: str, want: str) -> bool:
    """An emphasised span names the answer: equal, a little longer ("Space Shuttle Challenger"), most of a long
    answer ("Franz Schubert" for "franz peter schubert"), or the same word spaced or plural ("juke boxes")."""
    got, need = span.split(), want.split()
    if span == want or span.replace(" ", "").rstrip("s") == want.replace(" ", "").removesuffix("es").rstrip("s"):
        return True
    if set(need) <= set(got) and len(got) <= len(need) + 3:
        return True
    return len(got) >= 2 and set(got) <= set(need) and len(got) / len(need) >= 0.5


def _sentences(text: str, n: int) -> str:
    return " ".join(re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=n)[:n])


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]


def _number(text: str) -> float | None:
    """The number a short gold answer names ("TWELVE", "two hundred and ninety eight", "5.6%", "Three editions")."""
    found = _numbers(normalize(text.replace(",", "")) if not re.search(r"\d,\d", text) else text.replace(",", ""))
    return found[0] if len(found) == 1 else None


def _numbers(text: str) -> list[float]:
    """Numbers in normalised text, digits or English words, in order."""
    out, words, current, total, inside = [], text.replace("-", " ").split(), 0, 0, False
    for word in words + ["."]:
        if re.fullmatch(r"\d+(?:\.\d+)?", word):
            out.append(float(word))
            continue
        if word in _UNITS or word in _TENS:
            current += _UNITS.get(word, 0) + _TENS.get(word, 0)
            inside = True
        elif word in _SCALES and inside:
            scale = _SCALES[word]
            current, total = (current * scale, total) if scale == 100 else (0, total + current * scale)
        elif word == "and" and inside:
            continue
        elif word in _ORDINAL and not inside:
            out.append(float(_ORDINAL[word]))
        elif inside:
            out.append(float(total + current))
            current, total, inside = 0, 0, False
    return out


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
