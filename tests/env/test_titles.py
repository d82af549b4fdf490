"""Title resolution: exact case first, then case-insensitive, then singulars (the link resolver's rules)."""

from __future__ import annotations

from synth.env.titles import TitleIndex


def _index(*titles: str, redirects: dict[str, str] | None = None) -> TitleIndex:
    index = TitleIndex()
    for title in titles:
        index.add(title, f"id:{title}")
    for title, target in (redirects or {}).items():
        index.add(title, f"id:{title}", redirect=True)
        index.set_redirect(f"id:{title}", f"id:{target}")
    return index


def test_lower_case_anchor_prefers_the_lower_case_title_over_an_acronym():
    # FOLDOC order: the acronym SHELL (a Datatron language) comes before the entry "shell".
    index = _index("SHELL", "shell")
    assert index.resolve("shell") == "id:shell"
    assert index.resolve("shells") == "id:shell"  # was SHELL: the plural went through the loose key
    assert index.resolve("SHELL") == "id:SHELL"
    assert index.resolve("SHELLS") == "id:SHELL"
    assert index.resolve("Shells") == "id:shell"  # closest case of the two (1 letter off, not 5)


def test_case_insensitive_fallback_picks_the_closest_case():
    index = _index("LISP", "Lisp")
    assert index.resolve("lisp") == "id:Lisp"
    assert index.resolve("lISP") == "id:LISP"
    only_caps = _index("SHELL")
    assert only_caps.resolve("shell") == "id:SHELL" and only_caps.resolve("shells") == "id:SHELL"
    assert _index("Array").resolve("arrays") == "id:Array" and _index("policy").resolve("Policies") == "id:policy"


def test_articles_beat_redirects_and_first_seen_breaks_ties():
    index = _index("Unix", redirects={"UNIX": "Unix"})
    assert index.lookup("unix") == "id:Unix" and index.resolve("UNIX") == "id:Unix"
    tie = TitleIndex()
    tie.add("ab", "first")
    tie.add("AB", "second")
    tie.add("Ab", "third")
    assert tie.lookup("aB") == "first"  # "ab", "AB" are both one letter off; "Ab" two: input order wins
    # A redirect seen first with the same title as a later article: the article wins everywhere.
    dup = TitleIndex()
    dup.add("Go", "go-redirect", redirect=True)
    dup.add("GO", "go-acronym")
    dup.add("Go", "go-article")
    assert dup.lookup("Go") == "go-article" and dup.lookup("go") == "go-article"
