"""FOLDOC (and any dictd database) entries -> `RawDoc`s.

Text rules, so that offsets are defined on one canonical string:
- the body is dedented; prose lines (indent 3 in dictfmt output) of a paragraph are joined with one
  space, deeper-indented lines (code, tables) keep their line breaks; paragraphs are joined by "\\n\\n";
- `{target}` becomes `target` and a link whose span is exactly that text; `{label (URL)}`, `{(URL)}`
  and `{news:...}` are external references: the braces go, no link is made;
- `<category>` tags at the start of a sense go to `categories` (e.g. "language", "networking, standard"
  -> ["networking", "standard"]) and are removed from the text;
- a paragraph that is just `(YYYY-MM-DD)` is a dateline; `updated_at` is the latest one; the trailing
  dateline is removed from the text, datelines of earlier senses stay.
The first headword is the title (and the id); the other headwords are aliases.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from synth.env.records import RawDoc, RawLink
from synth.env.sources.dictd import iter_blocks
from synth.errors import UserError

SEARCH_DIRS = ("/usr/share/dictd", "/usr/local/share/dictd", "/opt/homebrew/share/dictd", "/usr/share/dict")
_DATELINE = re.compile(r"^\((\d{4})-(\d{2})-(\d{2})\)$")
_BRACE = re.compile(r"\{([^{}]*)\}")
_URL = r"(?:https?|ftp|mailto|news|gopher|telnet|file|wais|nntp):\S*"
_EXTERNAL = re.compile(rf"^(?:{_URL}|.*\((?:{_URL}|[^()\s]+\.html?(?:#\S*)?)\))$", re.DOTALL)
_TAG = re.compile(r"<([a-z][a-z0-9 ,&'/\-]*)>[ ]?")
# what may precede a category tag in a sense: numbers, (abbreviations), /pronunciation/, [etymology]
_TAG_PREFIX = re.compile(r"^(?:\d+\.\s*|\([^()]*\)\s*|/[^/]*/\s*|\[[^\]]*\]\s*|\s)*$")


def find_foldoc() -> Path:
    """The FOLDOC index file of the Debian/Ubuntu package `dict-foldoc`, wherever it is installed."""
    dirs = [d for d in os.environ.get("SYNTH_DICTD_PATH", "").split(os.pathsep) if d]
    dirs += _dpkg_dirs() + list(SEARCH_DIRS)
    for folder in dirs:
        index = Path(folder) / "foldoc.index"
        if index.is_file() and any((Path(folder) / n).is_file() for n in ("foldoc.dict.dz", "foldoc.dict")):
            return index
    raise UserError("FOLDOC not found (foldoc.index + foldoc.dict.dz): run `apt-get install dict-foldoc` "
                    "or set SYNTH_DICTD_PATH to its folder")


def _dpkg_dirs() -> list[str]:
    if not shutil.which("dpkg"):
        return []
    try:
        out = subprocess.run(["dpkg", "-L", "dict-foldoc"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({str(Path(line).parent) for line in out.splitlines() if line.endswith("foldoc.index")})


def iter_dictd(path: Path, *, source: str = "dictd") -> Iterator[RawDoc]:
    seen: dict[str, int] = {}
    for block in iter_blocks(path):
        if not block.headwords:
            continue
        title = block.headwords[0]
        text, links, categories, updated = parse_body(block.body)
        # the id is the title; a repeated title (rare homonym blocks) gets " (2)", " (3)"...
        seen[title] = seen.get(title, 0) + 1
        doc_id = title if seen[title] == 1 else f"{title} ({seen[title]})"
        aliases = [h for h in block.headwords[1:] if h.casefold() != title.casefold()]
        yield RawDoc(id=doc_id, title=title, text=text, links=links, updated_at=updated, categories=categories,
                     aliases=aliases, where=f"{path}:{block.line}")


def iter_foldoc(path: Path | None = None) -> Iterator[RawDoc]:
    yield from iter_dictd(path or find_foldoc(), source="foldoc")


def parse_body(body: str) -> tuple[str, list[RawLink], list[str], datetime | None]:
    """(text, links with spans, categories, updated_at) for one dictfmt body."""
    paragraphs = [_unwrap(p) for p in re.split(r"\n[ \t]*\n", body.strip("\n"))]
    paragraphs = [p for p in paragraphs if p]
    dates = [d for d in (_dateline(p) for p in paragraphs) if d is not None]
    if paragraphs and _DATELINE.match(paragraphs[-1]):
        paragraphs.pop()
    out: list[str] = []
    links: list[RawLink] = []
    categories: list[str] = []
    offset = 0
    for i, para in enumerate(paragraphs):
        if i:
            out.append("\n\n")
            offset += 2
        para = _take_categories(para, categories)
        piece, para_links = _resolve_braces(para, offset)
        out.append(piece)
        links.extend(para_links)
        offset += len(piece)
    return "".join(out), links, categories, max(dates) if dates else None


def _unwrap(paragraph: str) -> str:
    lines = [line.rstrip() for line in paragraph.split("\n")]
    parts: list[str] = []
    prose_before = False
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        text = line[min(indent, 3):]
        prose = indent <= 3
        if parts:
            parts.append(" " if prose and prose_before else "\n")
        parts.append(text.lstrip() if prose else text)
        prose_before = prose
    return "".join(parts).strip("\n")


def _dateline(paragraph: str) -> datetime | None:
    m = _DATELINE.match(paragraph)
    if not m:
        return None
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
    except ValueError:  # e.g. 1994-02-30 in the source: keep the entry, skip the date
        return None


def _take_categories(paragraph: str, categories: list[str]) -> str:
    while True:
        m = _TAG.search(paragraph)
        if not m or not _TAG_PREFIX.match(paragraph[: m.start()]):
            return paragraph
        for name in (c.strip() for c in m[1].split(",")):
            if name and name not in categories:
                categories.append(name)
        paragraph = paragraph[: m.start()] + paragraph[m.end():]


def _resolve_braces(paragraph: str, base: int) -> tuple[str, list[RawLink]]:
    out: list[str] = []
    links: list[RawLink] = []
    pos = length = 0
    for m in _BRACE.finditer(paragraph):
        before = paragraph[pos: m.start()]
        out.append(before)
        length += len(before)
        inner = m[1]
        start = base + length
        out.append(inner)
        length += len(inner)
        pos = m.end()
        target = " ".join(inner.split())
        if target and not _EXTERNAL.match(target):
            links.append(RawLink(target=target, anchor=inner, start=start, end=start + len(inner)))
    out.append(paragraph[pos:])
    return "".join(out), links
