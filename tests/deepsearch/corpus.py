"""Test corpora for the deep-search pipeline, written by the tests themselves.

`MINI`: a hand-made dictionary of invented computing entities with known structure. Three languages
are "designed by" Mira Kovac (so that constraint alone is ambiguous), only Zorblang "compiles to" the
Quux virtual machine, and Zorblang is the only entry updated after 2025-01-01 (so `--since 2025-01-01`
makes it the only seed). `foldoc_subset`: a link-closed neighbourhood of real FOLDOC entries.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

# id, title, categories, updated_at, text, links (titles; each gets its first occurrence as the anchor)
MINI = [
    ("zorblang", "Zorblang", ["language"], "2025-06-01",
     ("(ZBL) A functional programming language designed by Mira Kovac at the Helsinki Lab in 1987. "
     "Zorblang programs compile to the Quux virtual machine and use the Frobnitz garbage collector."),
     ["Mira Kovac", "Helsinki Lab", "Quux virtual machine", "Frobnitz garbage collector"]),
    ("blorptalk", "Blorptalk", ["language"], "2019-03-02",
     ("An object-oriented programming language designed by Mira Kovac for teaching children. "
     "Blorptalk runs on the Quux virtual machine."), ["Mira Kovac", "Quux virtual machine"]),
    ("grob", "Grob", ["language"], "2018-05-05",
     "A logic programming language designed by Mira Kovac, based on resolution theorem proving.",
     ["Mira Kovac"]),
    ("kovac", "Mira Kovac", ["person"], "2017-01-01",
     "A Finnish computer scientist who worked at the Helsinki Lab on functional languages and type inference.",
     ["Helsinki Lab"]),
    ("hlab", "Helsinki Lab", ["body"], "2016-01-01",
     ("A research institute for theoretical computing founded in 1971 near the Baltic coast, known for "
     "its work on abstract machines."), []),
    ("quux", "Quux virtual machine", ["programming"], "2016-02-01",
     "A stack-based abstract machine for portable bytecode, designed at the Helsinki Lab in 1985.",
     ["Helsinki Lab"]),
    ("frobnitz", "Frobnitz garbage collector", ["programming"], "2016-03-01",
     "A generational memory reclamation scheme with concurrent marking, written by Tuuli Saari.",
     ["Tuuli Saari"]),
    ("saari", "Tuuli Saari", ["person"], "2016-04-01",
     "A systems programmer known for low-pause memory management and for the Snorkel debugger.",
     ["Snorkel debugger"]),
    ("snorkel", "Snorkel debugger", ["tool"], "2016-05-01",
     ("An interactive source-level debugging tool for bytecode programs with reversible stepping. "
     "It also runs on the Quux virtual machine."), ["Quux virtual machine"]),
]


def mini_rows() -> list[dict]:
    rows = []
    for doc_id, title, cats, updated, text, links in MINI:
        rows.append({"id": doc_id, "title": title, "text": text, "links": links, "categories": cats,
                     "updated_at": f"{updated}T00:00:00Z"})
    rows.append({"id": "zbl", "title": "ZBL", "text": "", "redirect": "Zorblang"})
    return rows


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def build(rows: list[dict], out: Path) -> Path:
    from synth.env.build import BuildConfig, build_corpus

    src = write_rows(out.parent / f"{out.name}.jsonl", rows)
    build_corpus(str(src), out, BuildConfig(dense=False, show_progress=False))
    return out


def foldoc_subset_rows(starts: tuple[str, ...], limit: int) -> list[dict]:
    """A breadth-first, link-closed neighbourhood of real FOLDOC entries (links inside the subset only)."""
    from synth.env.sources.foldoc import iter_foldoc

    docs = {d.title.casefold(): d for d in iter_foldoc()}
    chosen: dict[str, object] = {}
    queue = deque(s.casefold() for s in starts)
    while queue and len(chosen) < limit:
        key = queue.popleft()
        doc = docs.get(key)
        if doc is None or key in chosen:
            continue
        chosen[key] = doc
        queue.extend(link.target.casefold() for link in doc.links)
    rows = []
    for doc in chosen.values():
        links = [{"target": l.target, "anchor": l.anchor, "start": l.start, "end": l.end}
                 for l in doc.links if l.target.casefold() in chosen]
        rows.append({"id": doc.id, "title": doc.title, "text": doc.text, "links": links,
                     "categories": doc.categories,
                     "updated_at": doc.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ") if doc.updated_at else None})
    return rows
