"""Wikitext -> plain text with wikilinks (anchor + character span) and categories.

Not a full MediaWiki renderer: templates, tables, references, comments, files and interwiki links are
dropped; headings keep their words, list markers go, bold/italic quotes go, `[URL label]` keeps the
label, entities are decoded. `[[Target|anchor]]trail` becomes `anchortrail` with a link to Target
whose span covers exactly that text, which is what quote checks need.
"""

from __future__ import annotations

import html
import re

from synth.env.records import RawLink

_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_REF = re.compile(r"<ref\b[^>/]*/>|<ref\b[^>]*>.*?</ref\s*>", re.DOTALL | re.IGNORECASE)
_DROP_TAGS = re.compile(r"<(gallery|math|score|timeline|syntaxhighlight|source|imagemap|noinclude|templatedata)"
                        r"\b[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*\b[^<>]*?/?>")
_MAGIC = re.compile(r"__[A-Z]+__")
_HEADING = re.compile(r"^(=+)[ \t]*(.*?)[ \t]*\1[ \t]*$", re.MULTILINE)
_LIST = re.compile(r"^[*#:;]+[ \t]*", re.MULTILINE)
_RULE = re.compile(r"^-{4,}[ \t]*$", re.MULTILINE)
_QUOTES = re.compile(r"'{2,5}")
_EXTLINK = re.compile(r"\[(?:https?:|ftp:|mailto:|//)[^\s\]]*(?:\s+([^\]]*))?\]")
_TRAIL = re.compile(r"[a-z]+")
_SPACES = re.compile(r"(?<=\S)[ \t]{2,}(?=\S)")  # left behind by removed templates, refs, links
_INTERWIKI = re.compile(r"^:?[a-z]{2,3}(?:-[a-z]+)*:", re.IGNORECASE)

FILE_NAMESPACES = {"file", "image", "media"}
CATEGORY_NAMESPACES = {"category"}


def to_text(wikitext: str, *, file_ns: set[str] | None = None,
            category_ns: set[str] | None = None) -> tuple[str, list[RawLink], list[str]]:
    """(plain text, links with spans, categories)."""
    file_ns = {n.casefold() for n in (file_ns or FILE_NAMESPACES)}
    category_ns = {n.casefold() for n in (category_ns or CATEGORY_NAMESPACES)}
    text = _COMMENT.sub("", wikitext)
    text = _DROP_TAGS.sub("", _REF.sub("", text))
    text = _drop_nested(text, "{{", "}}")
    text = _drop_nested(text, "{|", "|}")
    text = _MAGIC.sub("", text)
    text = _HEADING.sub(lambda m: "\n" + m[2] + "\n", text)
    text = _RULE.sub("", _LIST.sub("", text))
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    text = _EXTLINK.sub(lambda m: m[1] or "", text)
    text = _SPACES.sub(" ", _QUOTES.sub("", text))
    out, links, categories = _links(text, file_ns, category_ns)
    return _squeeze(out, links) + (categories,)


def _drop_nested(text: str, open_: str, close: str) -> str:
    """Remove balanced `open_ ... close` regions (templates nest); an unclosed one runs to the end."""
    if open_ not in text:
        return text
    out: list[str] = []
    depth = pos = 0
    for m in re.finditer(re.escape(open_) + "|" + re.escape(close), text):
        if m.group() == open_:
            if depth == 0:
                out.append(text[pos: m.start()])
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                pos = m.end()
    if depth == 0:
        out.append(text[pos:])
    return "".join(out)


def _links(text: str, file_ns: set[str], category_ns: set[str]) -> tuple[str, list[RawLink], list[str]]:
    out: list[str] = []
    links: list[RawLink] = []
    categories: list[str] = []
    length = pos = 0
    while True:
        start = text.find("[[", pos)
        if start < 0:
            break
        end = _closing(text, start)
        if end < 0:
            break
        before = text[pos:start]
        out.append(before)
        length += len(before)
        inner = text[start + 2: end]
        pos = end + 2
        target, _, label = inner.partition("|")
        target = target.strip()
        ns = target.lstrip(":").partition(":")[0].strip().casefold() if ":" in target else ""
        dropped = ns in file_ns or (ns and _INTERWIKI.match(target) and not target.startswith(":"))
        if ns in category_ns and not target.startswith(":"):
            categories.append(target.partition(":")[2].strip())
            dropped = True
        if dropped:  # images, categories and language links carry no article text
            if before.endswith(" ") and text.startswith(" ", pos):
                pos += 1
            continue
        trail = _TRAIL.match(text, pos)
        if trail:
            pos = trail.end()
        anchor = (label if "|" in inner and label.strip() else target.lstrip(":")) + (trail[0] if trail else "")
        out.append(anchor)
        page = target.lstrip(":").partition("#")[0].strip()
        if page and anchor:
            links.append(RawLink(target=page, anchor=anchor, start=length, end=length + len(anchor)))
        length += len(anchor)
    out.append(text[pos:])
    return "".join(out), links, categories


def _closing(text: str, start: int) -> int:
    """Index of the `]]` closing the `[[` at `start` (file captions nest links)."""
    depth, i = 0, start
    while i < len(text) - 1:
        pair = text[i: i + 2]
        if pair == "[[":
            depth += 1
            i += 2
        elif pair == "]]":
            depth -= 1
            if depth == 0:
                return i
            i += 2
        else:
            i += 1
    return -1


def _squeeze(text: str, links: list[RawLink]) -> tuple[str, list[RawLink]]:
    """Trim line ends and collapse runs of blank lines into one paragraph break, moving link spans."""
    import bisect

    out: list[str] = []
    starts: list[int] = []  # original start of each kept line
    new_starts: list[int] = []
    length, pos, blank = 0, 0, False
    for line in text.split("\n"):
        kept = line.rstrip(" \t")
        if kept.strip():
            if out:
                sep = "\n\n" if blank else "\n"
                out.append(sep)
                length += len(sep)
            starts.append(pos)
            new_starts.append(length)
            out.append(kept)
            length += len(kept)
            blank = False
        elif out:
            blank = True
        pos += len(line) + 1
    result = "".join(out)
    moved: list[RawLink] = []
    for link in links:
        k = bisect.bisect_right(starts, link.start) - 1
        start = new_starts[k] + link.start - starts[k] if k >= 0 else -1
        ok = start >= 0 and result[start: start + len(link.anchor)] == link.anchor
        moved.append(RawLink(link.target, link.anchor, start if ok else None,
                             start + len(link.anchor) if ok else None))
    return result, moved
