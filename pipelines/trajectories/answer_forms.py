"""Paraphrase-aware forms of a gold answer that the rule judge (judge.py) accepts beyond exact and leading spans.

Each form is one way a correct answer is written differently from its gold string, read off the 150 WebDancer
answers (tests/trajectories/webdancer_readings.json): a gold that restates the question ("jim douglas race car
driver" for **Jim Douglas**, asked "who is the race car driver…"), a generic designator ("Lammas day",
"Republic of Lithuania"), a catalogue name ("Landy, John Michael"), a spelling slip in the gold ("The Comedie of
Errors"), words in another order ("discharge of ballast water"), a date range in another format, an abbreviation
given in parentheses, a labelled answer line ("**Final Answer:** Yes, …") and a yes/no question answered by
restating it. Each form is narrow on purpose: what it cannot tell apart (a paraphrase such as "augury" for
"interpreting the flight of birds") stays with the LLM judge, and tests/trajectories/test_answer_forms.py keeps
near-misses that must stay wrong.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

# words that name the kind of thing, not the thing: "Lammas day" is Lammas, "Republic of Lithuania" is Lithuania;
# "disambiguation" is a Wikipedia page-title qualifier that leaks into scraped gold answers
_GENERIC_TAIL = frozenset(["day", "festival", "disambiguation", "film", "movie", "song", "album", "band", "novel", "river", "city", "town", "language", "programming"])
_GENERIC_HEAD = re.compile(r"^(?:in|at|on|republic of|kingdom of|state of|city of|people s republic of|empire of) ")
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|neither|nor|rather than|instead of|unclear|unknown|n t)\b")
_ASKS_YES_NO = re.compile(r"^(?:does|did|do|is|was|are|were|can|could|has|have|had|will|would|should)\b")
_ANSWER_LINE = re.compile(r"^[*_#\s]*(?:final\s+)?answer[*_\s]*(?::[*_\s]*|\n\s*)(.+)$", re.IGNORECASE | re.MULTILINE)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_LABEL_LINE = re.compile(r"^\W*[^:\n]{1,40}?\W*:\W*(.+)$")
_MONTHS = ("january february march april may june july august september october november december").split()  # noqa: SIM905
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]{2,}$")


def _norm(text: str) -> str:
    from synth.pipelines.trajectories.judge import normalize

    return normalize(text)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> set[str]:
    """Stemmed content words of already-normalised text (so "progenitors" meets "progenitor")."""
    from synth.pipelines.trajectories.clues import STOP

    return set(_stemmer().stemWords([w for w in text.split() if w not in STOP]))


def generic_variants(gold: str) -> list[str]:
    """The normalised gold without a generic head or tail word, when something specific is left."""
    out, text = [], _norm(gold)
    bare = _GENERIC_HEAD.sub("", text)
    if bare != text and bare:
        out.append(bare)
    for form in (text, bare):
        parts = form.split()
        if len(parts) >= 2 and parts[-1] in _GENERIC_TAIL:
            out.append(" ".join(parts[:-1]))
    return [v for v in dict.fromkeys(out) if v]


def reordered(gold: str) -> str | None:
    """"Landy, John Michael" → "john michael landy": a catalogue (surname-first) name in reading order."""
    parts = [p.strip() for p in gold.split(",")]
    if len(parts) == 2 and len(parts[0].split()) == 1 and 1 <= len(parts[1].split()) <= 3 and parts[0][:1].isupper():
        return _norm(f"{parts[1]} {parts[0]}")
    return None


def beyond_question(gold: str, question: str | None) -> str | None:
    """The gold's words the question does not already say ("jim douglas" of "jim douglas race car driver" asked
    "who is the race car driver…"), in order; None when the gold adds nothing to the question or is all new."""
    if not question or re.search(r"\d", gold):   # "5.6%" asked "… by 0.5% …" is not "6"
        return None
    asked = stems(_norm(question))
    words = _norm(gold).split()
    core = [w for w in words if not (stems(w) & asked)]
    from synth.pipelines.trajectories.clues import STOP

    if not core or len(core) == len(words) or all(w in STOP for w in core):
        return None
    return " ".join(core)


def bag_contained(gold: str, question: str | None, opening: str) -> bool:
    """Every content word of the gold the question does not already give appears in the answer's opening, and
    there are at least two of them ("the discharge of ballast water" for "ballast water discharge"); an
    opening that negates or hedges does not count."""
    asked = stems(_norm(question or ""))
    need = stems(_norm(gold)) - asked
    words = _norm(opening).split()
    if len(need) < 2 or _NEGATION.search(" ".join(words)):
        return False
    hits = [i for i, w in enumerate(words) if stems(w) & need]
    width = len(need) + 1     # together, at most one other word between ("discharge of ballast water")
    return any(need <= stems(" ".join(words[i:i + width])) for i in hits)


def asserted(phrase: str, text: str) -> bool:
    """`phrase` occurs in normalised `text` not right after a negation ("not ballast water discharge but …")."""
    padded, start = f" {text} ", 0
    while (at := padded.find(f" {phrase} ", start)) >= 0:
        if not _NEGATION.search(" ".join(padded[:at].split()[-3:])):
            return True
        start = at + 1
    return False


def fuzzy_same(span: str, want: str) -> bool:
    """A spelling slip on either side ("comedie" / "comedy", "symphomes" / "symphonies"): the same number of words,
    each pair starting alike (so "terrors" is not "errors"), close overall, never a different digit."""
    a, b = span.split(), want.split()
    if min(len(span), len(want)) < 10 or len(a) != len(b) or re.findall(r"\d+", span) != re.findall(r"\d+", want):
        return False
    if any(x != y and x[:2] != y[:2] for x, y in zip(a, b, strict=True)):
        return False
    return difflib.SequenceMatcher(None, span, want).ratio() >= 0.88


def compact_contained(want: str, text: str) -> bool:
    """The gold's words written as one ("jail house rock" in "Jailhouse Rock"), on word boundaries."""
    target, words = want.replace(" ", ""), text.split()
    if len(want.split()) < 2 or len(target) < 8:
        return False
    for i in range(len(words)):
        joined = ""
        for word in words[i:]:
            joined += word
            if joined == target and not _NEGATION.search(" ".join(words[max(0, i - 3):i])):
                return True
            if len(joined) >= len(target):
                break
    return False


def same_dates(gold: str, span: str) -> bool:
    """"3rd to 13th September" for "September 3 to September 13, 1752": the same month and the same days."""
    g, s = _norm(gold), _norm(span)
    months = [m for m in _MONTHS if m in g.split()]
    days = set(re.findall(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", g))
    if not months or not days or any(m not in s.split() for m in months):
        return False
    return days <= set(re.findall(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", s))


def abbreviation_given(gold: str, span: str) -> bool:
    """The gold is an abbreviation the answer gives in parentheses: "… Rural Development (PGDSRD)"."""
    return bool(_ACRONYM.match(gold.strip())) and f"({gold.strip().lower()})" in span.lower().replace(" ", "")


def answer_lines(predicted: str) -> list[str]:
    """Texts the prediction labels as its answer: a "Final Answer:" line anywhere, or a closing "**Label**: value"
    line ("**Casualties**: 298 deaths."), or a boxed value (LaTeX `\\boxed{10}`)."""
    found = [m.group(1) for m in _ANSWER_LINE.finditer(predicted)] + _BOXED.findall(predicted)
    lines = [line for line in predicted.strip().splitlines() if line.strip()]
    if lines and (last := _LABEL_LINE.match(lines[-1])) and last.group(1) not in found:
        found.append(last.group(1))
    return found


def polarity(predicted: str, question: str | None) -> str | None:
    """"yes" / "no" when a yes/no question is answered by restating it ("The CIFOR Toolkit does aid in
    implementing the guidelines released in 2020."): most of the question's content words in the first sentence,
    affirmed, or negated exactly once. None when it is not such a restatement."""
    q = _norm(question or "")
    if not _ASKS_YES_NO.match(q):
        return None
    first = _norm(re.split(r"(?<=[.!?])\s", predicted.strip(), maxsplit=1)[0])
    asked = stems(q) - {"doe", "did", "is", "was", "are", "were", "can", "could", "has", "have", "will", "would"}
    if not asked or len(asked & stems(first)) / len(asked) < 0.7:
        return None
    negations = _NEGATION.findall(first)
    if not negations:
        return "yes"
    return "no" if len(negations) == 1 and negations[0] in ("not", "n t", "never", "cannot") else None
