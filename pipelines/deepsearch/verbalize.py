"""Template verbalization (`--teacher none`): a formal question -> one English question.

The target is asked for by its type and its own links ("Which language has an entry that reads
'…interpreted language by [A]…'"); every other variable is a placeholder [A], [B], ... bound in a
"where" clause by its links or, for leaves, by a description quoted from its own entry. Wording
variants live in templates.txt and type nouns in types.txt, next to this module; the seeded RNG picks
variants, so a seed always gives the same text.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path

from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch.formal import Constraint, Cue, Formal

HERE = Path(__file__).parent
PLACEHOLDER = re.compile(r"\[[A-Z]\]")


@lru_cache(maxsize=1)
def templates() -> dict[str, list[str]]:
    slots: dict[str, list[str]] = {}
    current = None
    for line in (HERE / "templates.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"\[(\w+)\]", line.strip())
        if m:
            current = slots.setdefault(m.group(1), [])
        elif current is not None:
            current.append(line.strip())
    return slots


@lru_cache(maxsize=1)
def type_nouns() -> dict[str, str]:
    nouns = {}
    for line in (HERE / "types.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, noun = line.partition(":")
            nouns[key.strip()] = noun.strip()
    return nouns


def type_noun(category: str | None) -> str:
    if not category:
        return "term"
    return type_nouns().get(category, f"{category} term")


def ref(var: str) -> str:
    return f"[{var}]"


def cue_text(cue: Cue | None, obj: str) -> str:
    """'…was developed for [A] in the late 1960s…' from a cue's obfuscated left/right parts."""
    left = cue.left.display if cue else ""
    right = cue.right.display if cue else ""
    body = " ".join(p for p in (left, ref(obj), right) if p)
    return f"…{body}…"


def _pick(rng: random.Random, slot: str, **fields) -> str:
    return rng.choice(templates()[slot]).format(**fields)


def _link_phrase(formal: Formal, c: Constraint, rng: random.Random, first: str, more: str, is_first: bool,
                 subject_ref: str = "") -> str:
    cue = formal.constants.get(c.constant) if c.constant else None
    kind = "cue" if cue is not None else "plain"
    slot = f"{first}_{kind}" if is_first else f"{more}_{kind}"
    t = formal.types[c.subject]
    return _pick(rng, slot, type=type_noun(t), a_type=_a(type_noun(t)), cue=cue_text(cue, c.object),
                 ref=subject_ref or ref(c.object), ref2=ref(c.object))


def _a(noun: str) -> str:
    return f"{tx.article(noun)} {noun}"


def _binding(formal: Formal, var: str, rng: random.Random) -> str:
    links = [c for c in formal.links() if c.subject == var]
    noun = type_noun(formal.types[var])
    if not links:
        desc = formal.constants[f"desc{var}"].display
        return _pick(rng, "bind_desc", ref=ref(var), type=noun, a_type=_a(noun), desc=desc)
    parts = [_link_phrase(formal, links[0], rng, "bind", "bind_more", True, subject_ref=ref(var))]
    parts += [_link_phrase(formal, c, rng, "bind", "bind_more", False) for c in links[1:]]
    return " ".join(parts)


def verbalize(formal: Formal, rng: random.Random) -> str:
    """The question text for a formal question (target first, then one clause per other variable)."""
    target_links = [c for c in formal.links() if c.subject == formal.target]
    head = [_link_phrase(formal, target_links[0], rng, "open", "more", True)]
    head += [_link_phrase(formal, c, rng, "open", "more", False) for c in target_links[1:]]
    clauses = [_binding(formal, v, rng) for v in sorted(formal.variables) if v != formal.target]
    joined = "; ".join(clauses[:-1]) + ("; and " if len(clauses) > 1 else "") + clauses[-1]
    question = ", ".join(head) + _pick(rng, "join", clauses=joined)
    return re.sub(r"\s+", " ", question).strip()


def strip_placeholders(question: str) -> str:
    """The question without [A]-style placeholders (so a one-letter entity name is not matched in them)."""
    return PLACEHOLDER.sub(" ", question)
