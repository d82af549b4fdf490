"""MediaWiki XML exports (`.xml` or `.xml.bz2`/`.gz`), streamed page by page in constant memory.

Each `<page>` becomes a `RawDoc`: id = page id, title, plain text of the latest revision (see
`wikitext.to_text`), wikilinks with spans, categories, `updated_at` = that revision's timestamp.
`<redirect title=...>` pages become redirect rows. Only the namespaces asked for are kept (articles,
ns 0, by default). Namespace names for files and categories are read from `<siteinfo>`, so localized
dumps ("Kategorie:") work.
"""

from __future__ import annotations

import bz2
import gzip
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from synth.env.records import RawDoc, parse_timestamp
from synth.env.sources.wikitext import CATEGORY_NAMESPACES, FILE_NAMESPACES, to_text
from synth.errors import InputError


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(elem: ET.Element, name: str) -> ET.Element | None:
    for sub in elem:
        if _local(sub.tag) == name:
            return sub
    return None


def _child_text(elem: ET.Element, name: str) -> str:
    sub = _child(elem, name)
    return (sub.text or "") if sub is not None else ""


def iter_mediawiki(path: Path, *, namespaces: tuple[int, ...] = (0,)) -> Iterator[RawDoc]:
    file_ns, cat_ns = set(FILE_NAMESPACES), set(CATEGORY_NAMESPACES)
    number = 0
    root = None
    try:
        with _open(path) as fh:
            for event, elem in ET.iterparse(fh, events=("start", "end")):
                if root is None:
                    root = elem
                if event != "end":
                    continue
                name = _local(elem.tag)
                if name == "siteinfo":
                    _namespace_names(elem, file_ns, cat_ns)
                    root.clear()
                elif name == "page":
                    number += 1
                    doc = _page(elem, namespaces, file_ns, cat_ns, f"{path}:page {number}")
                    root.clear()  # drop the finished page: memory does not grow with the dump
                    if doc is not None:
                        yield doc
    except ET.ParseError as exc:
        raise InputError(str(path), exc.position[0], f"malformed XML: {exc}") from None
    except (OSError, EOFError) as exc:
        raise InputError(str(path), None, f"cannot read: {exc}") from None


def _namespace_names(siteinfo: ET.Element, file_ns: set[str], cat_ns: set[str]) -> None:
    spaces = _child(siteinfo, "namespaces")
    for ns in spaces if spaces is not None else []:
        key, name = ns.get("key"), (ns.text or "").strip()
        if name and key == "6":
            file_ns.add(name)
        elif name and key == "14":
            cat_ns.add(name)


def _page(page: ET.Element, namespaces: tuple[int, ...], file_ns: set[str], cat_ns: set[str],
          where: str) -> RawDoc | None:
    ns_text = _child_text(page, "ns").strip() or "0"
    title = _child_text(page, "title").strip()
    page_id = _child_text(page, "id").strip() or title
    if not ns_text.isdecimal():  # one bad page is a reject, not the end of a multi-GB import
        return RawDoc(id=page_id, title=title, text="", where=where, problem=("invalid_namespace", ns_text))
    if int(ns_text) not in namespaces:
        return None
    revision = _latest_revision(page)
    if revision is None:
        return None
    stamp, wikitext = revision
    try:
        updated = parse_timestamp(stamp) if stamp else None
    except ValueError:
        return RawDoc(id=page_id, title=title, text="", where=where, problem=("invalid_updated_at", stamp))
    redirect = _child(page, "redirect")
    if redirect is not None or wikitext.lstrip()[:9].upper() == "#REDIRECT":
        target = redirect.get("title") if redirect is not None else _redirect_target(wikitext)
        return RawDoc(id=page_id, title=title, text="", updated_at=updated, redirect=target or "", where=where)
    text, links, categories = to_text(wikitext, file_ns=file_ns, category_ns=cat_ns)
    return RawDoc(id=page_id, title=title, text=text, links=links, updated_at=updated,
                  categories=categories, where=where)


def _latest_revision(page: ET.Element) -> tuple[str, str] | None:
    """(timestamp, text) of the newest revision (full-history dumps hold many)."""
    best = None
    for rev in page:
        if _local(rev.tag) != "revision":
            continue
        stamp = _child_text(rev, "timestamp").strip()
        if best is None or stamp >= best[0]:
            best = (stamp, _child_text(rev, "text"))
    return best


def _redirect_target(wikitext: str) -> str:
    start = wikitext.find("[[")
    end = wikitext.find("]]", start)
    return wikitext[start + 2: end].partition("|")[0].partition("#")[0].strip() if 0 <= start < end else ""
