"""Rule-based obfuscation operators over quoted text, each logged as {op, target, before, after}.

A `Masked` is a verbatim quote plus replacements (span -> shown text). What the question shows is the
quote with the replacements applied; what the uniqueness check may rely on is only what is still
verbatim (the `fragments`) and the year ranges of periods. So every operator makes the question harder
*and* keeps the check sound: the predicate gets looser, never wrong.

Operators:
  elide    a hidden entity's name -> "…"            (the answer and intermediate entities never show)
  period   a year -> a period ("1968" -> "the late 1960s"; the check keeps the range 1967-1969)
  partial  another entity's name -> a partial name   ("Guido van Rossum" -> "Guido v. R.")
  describe an entity -> a description from its own entry (logged by the question builder)
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache

from synth.pipelines.deepsearch import text as tx

_YEAR = re.compile(r"\b(?:in |from |since |until |by |circa |around )?(1[89]\d\d|20\d\d)\b")


@dataclass
class Masked:
    quote: str
    repl: list[tuple[int, int, str, str, tuple]] = field(default_factory=list)  # start, end, kind, shown, extra
    suffix: str = ""  # "…" when the quote is the start of a longer sentence

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, *_ in self.repl)

    def replace(self, start: int, end: int, kind: str, shown: str, extra: tuple = ()) -> bool:
        if not self.free(start, end):
            return False
        self.repl.append((start, end, kind, shown, extra))
        self.repl.sort()
        return True

    @property
    def display(self) -> str:
        out, pos = [], 0
        for s, e, _, shown, _ in self.repl:
            out.append(self.quote[pos:s])
            out.append(shown)
            pos = e
        out.append(self.quote[pos:])
        return re.sub(r"\s+", " ", "".join(out)).strip() + self.suffix

    @property
    def fragments(self) -> list[str]:
        """Verbatim pieces left between replacements (what a matching document must contain)."""
        out, pos = [], 0
        for s, e, *_ in self.repl:
            out.append(self.quote[pos:s])
            pos = e
        out.append(self.quote[pos:])
        return [f.strip(" ,;:.") for f in out if re.search(r"\w", f)]

    @property
    def year_ranges(self) -> list[tuple[int, int]]:
        return [extra for _, _, kind, _, extra in self.repl if kind == "period"]

    def to_json(self) -> dict:
        return {"text": self.display, "fragments": self.fragments,
                "year_ranges": [list(r) for r in self.year_ranges],
                "replacements": [{"start": s, "end": e, "op": k, "shown": shown} for s, e, k, shown, _ in self.repl]}


def log(op: str, target: str, before: str, after: str) -> dict:
    return {"op": op, "target": target, "before": before, "after": after}


@lru_cache(maxsize=4096)
def _name_regex(name: str) -> re.Pattern:
    flags = 0 if len(name) < 4 or name.isupper() else re.IGNORECASE  # as text.mentions: acronyms keep case
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(name) + r"(?![A-Za-z0-9+#])", flags)


def _name_spans(text: str, name: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _name_regex(name).finditer(text)]


def elide(masked: Masked, names: list[str], target: str) -> list[dict]:
    """Hide every occurrence of `names` (longest first) in the quote."""
    logs = []
    for name in sorted(set(names), key=lambda n: (-len(n), n)):  # longest first; stable across hash seeds
        for s, e in _name_spans(masked.quote, name):
            if masked.replace(s, e, "elide", "…"):
                logs.append(log("elide", target, masked.quote[s:e], "…"))
    return logs


def period(masked: Masked, target: str) -> list[dict]:
    """Every year (with its preposition) -> a period phrase."""
    logs = []
    for m in _YEAR.finditer(masked.quote):
        year = int(m.group(1))
        phrase, span = tx.period_of(year)
        prep = m.group(0)[: m.start(1) - m.start()].strip()
        shown = f"{prep or 'in'} {phrase}" if prep else phrase
        if masked.replace(m.start(), m.end(), "period", shown, span):
            logs.append(log("period", target, m.group(0), shown))
    return logs


def partial_name(name: str) -> str | None:
    """'Guido van Rossum' -> 'Guido v. R.'; 'Smalltalk' -> 'Sma…'; None for common words ("scalar") and
    names too short to shorten: only proper names are made partial."""
    parts = name.split()
    if not all(p[:1].isupper() for p in (parts[0], parts[-1])) or name.isupper():
        return None
    if len(parts) >= 2:
        return parts[0] + " " + " ".join(p[0] + "." for p in parts[1:] if p[:1].isalpha())
    if len(name) >= 6 and name.isalpha():
        return name[:3] + "…"
    return None


def partial(masked: Masked, spans: list[tuple[int, int]], target: str, rng: random.Random, p: float) -> list[dict]:
    """Each linked name at `spans` (quote offsets) becomes partial with probability p."""
    logs = []
    for s, e in spans:
        name = masked.quote[s:e]
        short = partial_name(name)
        if short and rng.random() < p and masked.replace(s, e, "partial", short):
            logs.append(log("partial", target, name, short))
    return logs
