"""Token-level leak check (issue 20, point 5): words, not strings.

A question leaks a hidden name when any content word of that name (the answer's title and aliases, or an
intermediate entity's title), after normalisation and Snowball stemming, occurs in the question, unless
the word is a stop word or one of the generic type nouns below (the words the realizer itself uses to
say what kind of thing an entity is). "Charles William Bachman III" leaks "Bachman Diagram"; "the Alpha"
leaks "DEC Alpha"; "nondeterministic" leaks "Nondeterministic Turing Machine".
"""

from __future__ import annotations

import re
from functools import lru_cache

from synth.pipelines.deepsearch import text as tx

# Generic type nouns: saying "a language" or "a protocol" names a kind, not an entity. Every noun the
# realizer uses for a type (types.txt) is generic; a title word outside this list never shows.
GENERIC = frozenset(["language", "languages", "system", "systems", "machine", "machines", "program", "programs", "programming", "computer", "computers", "protocol", "protocols", "term", "terms", "tool", "tools", "standard", "standards", "company", "companies", "processor", "processors", "person", "people", "algorithm", "algorithms", "application", "applications", "unit", "units", "format", "formats", "file", "files", "network", "networking", "software", "hardware", "data", "database", "operating", "storage", "graphics", "web", "character", "characters", "architecture", "messaging", "security", "text", "theory", "logic", "game", "games", "electronics", "mathematical", "communications", "organisation", "organization", "chat", "abbreviation", "jargon", "humorous", "document", "entity", "thing", "concept", "code"])
_TOKEN = re.compile(r"[a-z0-9][a-z0-9+#]*")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: already a dependency of the BM25 index

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; hyphens and slashes split words ("anti-spam" -> anti, spam)."""
    return _TOKEN.findall(tx.normalize(text).replace("'s ", " "))


def content_stems(text: str) -> set[str]:
    """Stems of the words that identify: no stop words, no generic type nouns, no single characters."""
    return {stem(t) for t in tokens(text)
            if t not in tx.STOPWORDS and t not in GENERIC and (len(t) > 1 or t.isdigit())}


def leaked(question: str, names: list[str]) -> list[str]:
    """The names (of one entity) any of whose content words occurs, stemmed, in the question."""
    shown = {stem(t) for t in tokens(question)}
    return [n for n in names if content_stems(n) & shown]
