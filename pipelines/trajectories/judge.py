"""The answer judge: normalized exact match, alias match, and an LLM judge under a JSON schema.

`match` is the rule: case, accents, punctuation, articles and spacing do not count; the prediction must
equal the gold answer or one of its aliases, or give it as its leading span ("Yes, Ketevan…" for "Yes"), or
as an emphasised (**bold**) span, or, for numbers, the same number in digits or words ("two hundred and
ninety eight", "12 players" for "TWELVE"). A hedge listing candidates ("Python, Perl or Ruby") is not an
answer: the leading clause may not offer alternatives. `llm_judge` asks a teacher when the rule says no, for
paraphrases the rule cannot see ("the Epsom Derby" for "English horse race Derby").
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import asdict, dataclass

from synth.pipelines.trajectories import answer_forms

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


def match(predicted: str | None, answer: str | None, aliases: list[str] | None = None,
          question: str | None = None) -> Judgement:
    """The rule verdict; `question` lets it see a gold that restates the question and a restated yes/no."""
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
        method = gold and _loose(predicted, gold, question)
        if method:
            return Judgement(True, method, f"{gold!r} as the prediction's {method.replace('_', ' ')}")
    if normalize(answer) in ("yes", "no") and answer_forms.polarity(predicted, question) == normalize(answer):
        return Judgement(True, "restated", f"restates the question: {normalize(answer)}")
    return Judgement(False, "exact", f"{predicted[:80]!r} matches neither the answer nor an alias")


_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__|(?<![*\w])\*([^*\n]+?)\*(?![*\w])", re.DOTALL)
_PAREN = re.compile(r"\([^)]*\)?")
_QUALIFIER = re.compile(r",\s|\s[-–—]\s|\s(?:by|from)\s")
_DECADE = re.compile(r"^(\d{3})0\s*[-–]\s*(\d{3})9$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z*_\"“(])|\n")
_CLAUSE = re.compile(r"[.,;:!?\n(—–-]\s")
_UNITS = {w: i for i, w in enumerate(("zero one two three four five six seven eight nine ten eleven twelve "  # noqa: SIM905
                                      "thirteen fourteen fifteen sixteen seventeen eighteen nineteen").split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split())  # noqa: SIM905
         if i > 1}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10}


def _loose(predicted: str, gold: str, question: str | None = None) -> str | None:
    """How the prediction, or a line it labels as its answer, gives `gold` (None when it does not)."""
    if not normalize(gold):
        return None
    for text in [predicted, *answer_forms.answer_lines(predicted)]:
        method = _loose_in(text, gold, question)
        if method:
            return method
    return None


def _loose_in(predicted: str, gold: str, question: str | None) -> str | None:
    """leading_span | emphasis | contained | dates | reordered_words | number."""
    variants = _variants(gold, question)
    lead = normalize(_CLAUSE.split(predicted.strip().lstrip("*_ "), maxsplit=1)[0])
    hedged = "or" in normalize(_first_sentence(predicted)).split()[:8]
    if not hedged and any(_leads(lead, v) for v in variants):
        return "leading_span"
    spans, scope = _emphasised(predicted)
    opening = normalize(scope)
    for variant in variants:
        if any(_same_span(span, variant) or answer_forms.fuzzy_same(span, variant) for span in spans):
            return "emphasis"
        if len(variant.split()) >= 2 and (answer_forms.asserted(variant, opening) or
                                          answer_forms.compact_contained(variant, opening)):
            return "contained"
    raw = [a or b or c for a, b, c in _BOLD.findall(predicted)]
    if any(answer_forms.same_dates(gold, s) for s in raw or [lead]):
        return "dates"
    if any(answer_forms.abbreviation_given(gold, s) for s in raw or [_first_sentence(predicted)]):
        return "abbreviation"
    if not hedged and answer_forms.bag_contained(gold, question, scope if spans else _first_sentence(predicted)):
        return "reordered_words"
    return _number_form(predicted, gold, [normalize(s) for s in raw])


def _leads(lead: str, variant: str) -> bool:
    """The first clause is the answer, starts with it, or names most of a longer one ("John Landy")."""
    if lead == variant or lead.startswith(variant + " "):
        return True
    return 2 <= len(lead.split()) <= len(variant.split()) and _same_span(lead, variant)


def _emphasised(predicted: str) -> tuple[list[str], str]:
    """The emphasised spans of the first sentence that has any, and the text a gold may be found in: before the
    first emphasis or inside those spans. The answer is what the reply stresses first ("… was **Parva**. Before
    that … **Runston Parva** …" answers Parva; "**Hound Dog**; Jailhouse Rock is a film" answers Hound Dog)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(predicted)] + [len(predicted)]
    found = [(bisect.bisect_right(ends, m.start()), m) for m in _BOLD.finditer(predicted)]
    if not found:
        return [], _sentences(predicted, 2)
    spans = [m.group(1) or m.group(2) or m.group(3) for i, m in found if i == found[0][0]]
    return [normalize(s) for s in spans], " ".join([predicted[:found[0][1].start()], *spans])


def _number_form(predicted: str, gold: str, spans: list[str]) -> str | None:
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


def _variants(gold: str, question: str | None = None) -> list[str]:
    """The gold answer, without a parenthetical ("Goodfellas (film)"), its head before a comma, in reading order
    ("Landy, John Michael"), without a generic word ("Lammas day"), and without what the question already says."""
    bare = _PAREN.sub(" ", gold)
    head = _QUALIFIER.split(bare, maxsplit=1)[0]   # "The Archers - Radio Soap", "Leviathan by Thomas Hobbes"
    generic = answer_forms.generic_variants(bare)
    forms = [normalize(gold), normalize(bare), normalize(head), answer_forms.reordered(bare), *generic,
             *(answer_forms.beyond_question(form, question) for form in (bare, *generic))]
    return [v for v in dict.fromkeys(forms) if v]


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
    verdict = match(predicted, answer, aliases, question)
    if verdict.correct is False and use_llm and session is not None and predicted and predicted.strip():
        return await llm_judge(session, question, answer or "", aliases, predicted, tag)
    return verdict
