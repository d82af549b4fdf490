"""The question grammar shared by the writer and the reader of deep-search questions.

`generate deepsearch --teacher none` writes questions with it (deepsearch/verbalize.py: typed verbs per
relation, type nouns per corpus category, "from the late 1960s" periods) and the honest solver reads them
with it (trajectories/clues.py). Both import this module and nothing of each other, so the two cannot
drift apart and no import cycle deepsearch <-> trajectories is added. Only public wording lives here: a
reader of the question text learns nothing from it that the text does not say.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

RELATED = "related"

# relation -> verb phrases about the subject S, used as "S that <phrase> O"
VERBS: dict[str, tuple[str, ...]] = {
    "successor_of": ("succeeded", "replaced"),
    "predecessor_of": ("was succeeded by", "was later replaced by"),
    "developed_at": ("was developed at", "came out of"),
    "created_by": ("was created by", "was devised by"),
    "based_on": ("is based on", "derives from"),
    "part_of": ("is part of", "belongs to"),
    "written_in": ("is written in", "was implemented in"),
    "runs_on": ("runs on", "was made for"),
    "kind_of": ("is a kind of", "is a type of"),
    "similar_to": ("is similar to", "resembles"),
    "used_in": ("is used in", "appears in"),
    "made_for": ("was made for", "is meant for"),
    "uses": ("uses", "makes use of"),
    "comes_from": ("comes from", "originated with"),
    RELATED: ("is associated with", "is connected with", "has to do with"),
}
UNTYPED_NOUN = "concept"   # the noun of an entity without a category


@lru_cache(maxsize=1)
def type_nouns() -> dict[str, str]:
    """corpus category -> the noun questions use for it (deepsearch/types.txt)."""
    nouns = {}
    path = Path(__file__).parent / "deepsearch" / "types.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, noun = line.partition(":")
            nouns[key.strip()] = noun.strip()
    return nouns


def type_noun(category: str | None) -> str:
    if not category:
        return UNTYPED_NOUN
    return type_nouns().get(category, f"{category} term")


def category_of(noun: str) -> str | None:
    """The category a type noun stands for ("mathematical term" -> "mathematics", "foo term" -> "foo");
    None when the noun names no single category ("concept", "term")."""
    noun = " ".join(noun.lower().split())
    matches = sorted(cat for cat, said in type_nouns().items() if said == noun)
    if len(matches) == 1:
        return matches[0]
    if not matches and noun.endswith(" term") and noun != "term":
        return noun[: -len(" term")]
    return None


_PERIOD = re.compile(r"\bfrom the (early|mid-|late) ?(\d{3,4})0s\b")


def period_years(text: str) -> tuple[int, int] | None:
    """'from the late 1960s' -> (1967, 1969): the same ranges as deepsearch/text.period_of."""
    m = _PERIOD.search(text)
    if m is None:
        return None
    decade = int(m.group(2)) * 10
    lo, hi = {"early": (0, 3), "mid-": (4, 6), "late": (7, 9)}[m.group(1)]
    return decade + lo, decade + hi
