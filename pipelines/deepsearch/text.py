"""Text helpers shared by the deep-search pipeline: sentences as exact spans, words, names, years.

Everything here works on spans of the exact document text, so a quote cut by these helpers is always
`text[start:end]` verbatim. Matching of names and phrases is done on a normalized form (lower case,
runs of whitespace as one space, curly quotes straightened) so that line wrapping or typography in the
corpus never decides whether a name leaks into a question.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Abbreviations after which a period does not end a sentence (FOLDOC writes "E.g." and "Inc." a lot).
_ABBREV = frozenset(["e.g", "i.e", "etc", "vs", "cf", "al", "approx", "ca", "inc", "ltd", "corp", "co", "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "no", "vol", "fig", "eds", "ed", "pp", "rev", "dept", "univ"])
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n\s*\n")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#']*")  # hyphens split words: "anti-spam" -> anti, spam
# a year, not a number in an identifier ("RFC 2047", "ISO 8859", "#1984"); years past 2029 read in
# FOLDOC/Wikipedia text are RFC or standard numbers, never dates an entity "is from"
_YEAR = re.compile(r"(?<!RFC )(?<!RFC)(?<!rfc:)(?<!ISO )(?<!No\. )(?<![#/.])\b(1[89]\d\d|20[0-2]\d)\b(?![/.]\d)")
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "being", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "may", "might", "more", "most", "not", "of", "on", "once", "one", "or", "other", "our", "she", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "under", "up", "upon", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "whose", "why", "will", "with", "would", "you", "also", "see", "e", "g", "eg", "i", "ie", "etc"])


def normalize(text: str) -> str:
    """Lower case, NFKC, straight quotes and dashes, single spaces: the form names and phrases match in."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                                         "\u2013": "-", "\u2014": "-"}))
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return [w.lower().strip("'-") for w in _WORD.findall(text) if w.strip("'-")]


def content_words(text: str) -> list[str]:
    """Words that carry meaning (no stop words, no single letters unless digits)."""
    return [w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern:
    # Word boundaries that also work for names ending in symbols ("C++", "C#", ".NET").
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(normalize(name)) + r"(?![A-Za-z0-9+#])")


def mentions(text: str, name: str, *, case_sensitive_below: int = 4) -> bool:
    """Whether `name` occurs in `text` as a whole word. Names shorter than `case_sensitive_below`
    characters ("C", "Go", "ML") and acronyms ("TERM", "SPARC") are matched case-sensitively: "C" in
    "a C compiler" is the language, "go" in "to go" is not, and "TERM" is not the word "term"."""
    name = name.strip()
    if not name:
        return False
    if len(name) < case_sensitive_below or (name.isupper() and any(ch.isalpha() for ch in name)):
        return _exact_pattern(name).search(text) is not None
    return _name_pattern(name).search(normalize(text)) is not None


@lru_cache(maxsize=4096)
def _exact_pattern(name: str) -> re.Pattern:
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(name) + r"(?![A-Za-z0-9+#])")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence; paragraphs always break sentences; spans exclude outer spaces."""
    spans: list[tuple[int, int]] = []
    for para_start, para_end in _paragraphs(text):
        start = para_start
        for m in _BOUNDARY.finditer(text, para_start, para_end):
            if _is_abbreviation(text, m.start()):
                continue
            spans.append((start, m.start() + 1 + _closing(text, m.start() + 1)))
            start = m.end()
        if start < para_end:
            spans.append((start, para_end))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def _paragraphs(text: str) -> list[tuple[int, int]]:
    out, start = [], 0
    for m in _PARAGRAPH.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return out


def _closing(text: str, pos: int) -> int:
    n = 0
    while pos + n < len(text) and text[pos + n] in "\"')]":
        n += 1
    return n


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    m = re.search(r"([A-Za-z.]+)$", text[max(0, dot - 12):dot])
    token = (m.group(1) if m else "").lower().strip(".")
    # "J. Smith", "E.g.", "J.M.E. Baudot", "U.S. Navy": initials do not end a sentence
    return token in _ABBREV or (len(token) == 1 and token.isalpha()) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", token) is not None


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentence_at(text: str, pos: int, spans: list[tuple[int, int]] | None = None) -> tuple[int, int]:
    """The sentence span containing character `pos` (the whole text if none does)."""
    for start, end in spans if spans is not None else sentence_spans(text):
        if start <= pos < end:
            return start, end
    return 0, len(text)


def clip_span(text: str, start: int, end: int, focus: tuple[int, int], limit: int) -> tuple[int, int]:
    """Shrink [start, end) to at most `limit` characters around `focus`, cutting at spaces."""
    if end - start <= limit:
        return start, end
    room = max(0, limit - (focus[1] - focus[0]))
    lo = max(start, focus[0] - room // 2)
    hi = min(end, lo + limit)
    lo = max(start, hi - limit)
    if lo > start:
        space = text.find(" ", lo, focus[0])
        lo = space + 1 if space != -1 else lo
    if hi < end:
        space = text.rfind(" ", focus[1], hi)
        hi = space if space != -1 else hi
    return _strip(text, lo, hi)


def years(text: str) -> list[int]:
    return [int(y) for y in _YEAR.findall(text)]


def period_of(year: int) -> tuple[str, tuple[int, int]]:
    """A year as a period phrase and the years it covers: 1968 -> ("the late 1960s", (1967, 1969))."""
    decade = year - year % 10
    part = year % 10
    if part <= 3:
        return f"the early {decade}s", (decade, decade + 3)
    if part <= 6:
        return f"the mid-{decade}s", (decade + 4, decade + 6)
    return f"the late {decade}s", (decade + 7, decade + 9)


def article(noun: str) -> str:
    """'a' or 'an' for a noun phrase (by its first letter; acronyms by their spoken first letter)."""
    first = noun.strip()[:1]
    if not first:
        return "a"
    if noun.strip()[:2].isupper() and first in "AEFHILMNORSX":
        return "an"
    if re.match(r"(?:uni|use|usu|usa|uti|ubi|eu|one\b|once)", noun.strip().lower()):
        return "a"  # "a unit", "a user", "a one-pass": the sound, not the letter
    return "an" if first.lower() in "aeiou" else "a"
