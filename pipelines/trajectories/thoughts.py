"""The reasoning text of a solver turn, written from the solver's state (what the last result established,
which constraint is still open, why the next call), in varied wording chosen by the run's seeded rng.

Every sentence names the task's own material: the clue, the query, the candidate, the words that matched or
failed. Nothing here reads gold evidence.
"""

from __future__ import annotations

import random


def _pick(rng: random.Random, options: list[str], **slots) -> str:
    return rng.choice(options).format(**slots)


def _list(items: list[str], n: int = 5) -> str:
    items = [f"“{i}”" for i in items[:n]]
    return ", ".join(items) if items else "none"


def first_search(rng, clue: str, query: str, asked: str) -> str:
    return _pick(rng, [
        ("The question asks: “{asked}”. Nothing is known yet, so I start from its most specific clue, “{clue}”, and "
        "search for its distinctive words: {query}."),
        ("I need the entity of “{asked}”, but the question hides every name. The clause “{clue}” has the most "
        "searchable wording; a keyword search for {query} should surface the entry it describes."),
        ("Plan: pin down the described entities first, then climb the chain of references to the entity of "
        "“{asked}”. First clue: “{clue}”. Query: {query}."),
    ], clue=clue, query=query, asked=asked)


def next_anchor(rng, done: str, clue: str, query: str) -> str:
    return _pick(rng, [
        "{done} Another clause can be searched on its own: “{clue}”. Query: {query}.",
        "{done} Before climbing further I resolve the other description, “{clue}”, with the query {query}.",
    ], done=done, clue=clue, query=query)


def climb(rng, done: str, clue: str, titles: list[str], query: str) -> str:
    return _pick(rng, [
        ("{done} Open constraint: “{clue}”, an entry that refers to {titles}. Entries mentioning {titles} should rank "
        "high for {query}."),
        ("{done} Next I need the entry described by “{clue}”; it must mention {titles}. Searching {query} and then "
        "checking each plausible hit for that mention."),
        ("{done} The chain continues with “{clue}”. A search for {query} lists pages that cite {titles}; I will open "
        "candidates until one fits."),
    ], done=done, clue=clue, titles=_list(titles, 3), query=query)


def pick(rng, query: str, n: int, title: str, rank: int, shared: list[str], left: int) -> str:
    why = f"its snippet shares {_list(shared)}" if shared else "it is the best-ranked hit not yet ruled out"
    return _pick(rng, [
        ("The search for “{query}” returned {n} results. {title} (rank {rank}) looks most promising: {why}. Opening it "
        "to check the clause."),
        ("{n} hits for “{query}”. I check {title} (rank {rank}) first, because {why}; {left} other candidate(s) remain "
        "if it fails."),
        "Candidates for “{query}”: {n}. {title} at rank {rank} is worth reading ({why}).",
    ], query=query, n=n, title=title, rank=rank, why=why, left=left)


def ruled_out(rng, title: str, reason: str) -> str:
    return _pick(rng, [
        "{title} does not fit: {reason}. Ruling it out.",
        "Not {title}: {reason}.",
        "{title} fails the check ({reason}), so it is out.",
    ], title=title, reason=reason)


def next_candidate(rng, title: str, rank: int, shared: list[str]) -> str:
    why = f"its snippet shares {_list(shared, 4)}" if shared else "it is the next hit not yet ruled out"
    return _pick(rng, [
        "Next candidate: {title} (rank {rank}; {why}).",
        "I check {title} next (rank {rank}): {why}.",
        "Moving on to {title}, rank {rank}, since {why}.",
    ], title=title, rank=rank, why=why)


def follow_links(rng, titles: list[str]) -> str:
    return _pick(rng, [
        ("Search has not surfaced it. Entries cross-reference each other, so I follow the links on {titles}'s page "
        "and check those that fit the clause."),
        "No query finds it directly; {titles} links to several entries, and the one I need may be among them.",
    ], titles=", ".join(titles[:2]))


def backtrack(rng, title: str, clue: str) -> str:
    return _pick(rng, [
        ("Every search from {title} led nowhere, so {title} was probably the wrong entry for “{clue}”; back to its "
        "other candidates."),
        ("Dead end after {title}: no entry that fits the next clause refers to it. I reconsider “{clue}” with another "
        "candidate."),
    ], title=title, clue=clue)


def backoff(rng, failed: list[str], query: str, k: int) -> str:
    return _pick(rng, [
        ("None of the candidates I opened fits ({failed} ruled out). Backing off: a different query, {query}, with "
        "k={k}."),
        "Dead end: {failed} all fail the clause. I re-query with {query} (k={k}) to widen the candidate set.",
        "The first query led nowhere useful ({failed} checked and rejected). Rephrasing as {query}, k={k}.",
    ], failed=_list(failed, 4), query=query, k=k)


def remembered(rng, title: str) -> str:
    return _pick(rng, ["I already read {title}; checking it against this clause from memory.",
                       "{title} was opened before, so I re-check it without another call."], title=title)


def confirmed(rng, title: str, clue: str, evidence: str, sentence: str = "", still_open: list[str] | None = None) -> str:
    text = _pick(rng, [
        "{title} fits “{clue}”: {evidence}.",
        "Confirmed: {title} matches the clause “{clue}” ({evidence}).",
        "{title} is the entity of “{clue}”; {evidence}.",
    ], title=title, clue=clue, evidence=evidence)
    if sentence:
        text += _pick(rng, [" The entry says: “{s}”", " Its text reads: “{s}”", " Evidence: “{s}”"], s=sentence)
    if still_open:
        text += _pick(rng, [" Still open: {o}.", " Remaining constraints: {o}.", " Not yet resolved: {o}."],
                      o=", ".join(f"“{c}”" for c in still_open))
    return text


def answer(rng, done: str, title: str, chain: list[str]) -> str:
    return _pick(rng, [
        "{done} Every clause is now tied to an entry: {chain}. The entity asked for is {title}.",
        "{done} All constraints are checked against the pages themselves ({chain}), so the answer is {title}.",
    ], done=done, title=title, chain=" → ".join(reversed(chain)))
