"""Title -> document id resolution, shared by the builder (links, redirects) and the runtime lookup.

Order: the exact title; then the loose key (case-folded, `_` = space; see `records.title_key`); then
singular guesses of a plural ({arrays} -> "array"), exact case first, then loose. When several titles
share a loose key ("SHELL", a Datatron language, and "shell"), the one whose case is closest to the
text being resolved wins, so the anchor "shells" reaches "shell", not the acronym; then articles win over
redirects; then the first one seen, so resolution is deterministic for a given input order. Redirects
are followed (chains included, loops refused) to the article they end at.
"""

from __future__ import annotations

import unicodedata

from synth.env.records import plural_variants, title_key

MAX_REDIRECT_HOPS = 8


def _surface(title: str) -> str:
    """The title as `title_key` sees it, but with its case kept (for case-closeness ranking)."""
    return " ".join(unicodedata.normalize("NFC", title).replace("_", " ").split())


def _case_distance(a: str, b: str) -> int:
    """How many characters differ between two spellings of one loose key (only case can differ,
    except where case folding changes the length, e.g. "ß" -> "ss": then as far apart as possible)."""
    if len(a) != len(b):
        return max(len(a), len(b))
    return sum(x != y for x, y in zip(a, b))


def _singulars(surface: str) -> list[str]:
    """`plural_variants` with the case of the text kept ("Shells" -> "Shell", "SHELLS" -> "SHELL")."""
    lower = surface.lower()
    if len(lower) != len(surface):
        return plural_variants(lower)
    out = []
    for variant in plural_variants(lower):
        if variant.endswith("y") and lower.endswith("ies") and len(variant) == len(lower) - 2:
            out.append(surface[:-3] + ("Y" if surface[-3:].isupper() else "y"))
        else:
            out.append(surface[: len(variant)])
    return out


class TitleIndex:
    def __init__(self) -> None:
        self.exact: dict[str, str] = {}
        # loose key -> the raw title of its first (article-preferred) entry; the value is the same
        # string object as the `exact` key, so this table costs pointers, not a second copy of titles.
        self.loose: dict[str, str] = {}
        # Only keys shared by 2+ titles keep every (surface, id, redirect) candidate, in input order;
        # they are rare, so a million-title index stays two plain dicts.
        self.shared: dict[str, list[tuple[str, str, bool]]] = {}
        self.redirect_of: dict[str, str] = {}  # redirect id -> target id (filled by `set_redirect`)
        self._is_redirect: set[str] = set()

    def add(self, title: str, doc_id: str, *, redirect: bool = False) -> None:
        current = self.exact.get(title)
        if current is None or (current in self._is_redirect and not redirect):
            self.exact[title] = doc_id
        if redirect:
            self._is_redirect.add(doc_id)
        key = title_key(title)
        first = self.loose.get(key)
        if first is None:
            self.loose[key] = title
            return
        if first == title and key not in self.shared:
            return  # the same title twice: `exact` above already settled which id it names
        if key not in self.shared:
            first_id = self.exact[first]
            self.shared[key] = [(_surface(first), first_id, first_id in self._is_redirect)]
        self.shared[key].append((_surface(title), doc_id, redirect))
        if self.exact[first] in self._is_redirect and not redirect:
            self.loose[key] = title

    def set_redirect(self, doc_id: str, target_id: str) -> None:
        self.redirect_of[doc_id] = target_id

    def _loose(self, key: str, surface: str) -> str | None:
        candidates = self.shared.get(key)
        if candidates is None:
            first = self.loose.get(key)
            return None if first is None else self.exact[first]
        # min() keeps the first of equals: input order breaks the remaining ties.
        return min(candidates, key=lambda c: (_case_distance(c[0], surface), c[2]))[1]

    def lookup(self, title: str) -> str | None:
        """The id a title names (maybe a redirect), or None."""
        found = self.exact.get(title)
        if found is not None:
            return found
        surface = _surface(title)
        found = self._loose(title_key(title), surface)
        if found is not None:
            return found
        variants = _singulars(surface)
        for variant in variants:  # exact case first: "shells" -> "shell" before "SHELL"
            found = self.exact.get(variant)
            if found is not None:
                return found
        for variant in variants:
            found = self._loose(title_key(variant), variant)
            if found is not None:
                return found
        return None

    def follow(self, doc_id: str) -> str | None:
        """The article a (chain of) redirect(s) ends at; None on a loop or a dangling redirect."""
        seen = {doc_id}
        while doc_id in self._is_redirect:
            doc_id = self.redirect_of.get(doc_id)
            if doc_id is None or doc_id in seen or len(seen) > MAX_REDIRECT_HOPS:
                return None
            seen.add(doc_id)
        return doc_id

    def resolve(self, title: str) -> str | None:
        """The article a title ends at, redirects followed."""
        found = self.lookup(title)
        return self.follow(found) if found is not None else None

    def is_redirect(self, doc_id: str) -> bool:
        return doc_id in self._is_redirect
