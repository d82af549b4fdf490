"""Wikipedia's multistream dumps: `X-multistream.xml.bz2` beside `X-multistream-index.txt.bz2`.

The dump is a concatenation of bz2 streams: one with the `<mediawiki><siteinfo>` header, then streams of
~100 `<page>`s each, then one with `</mediawiki>`. The index has a line `offset:page_id:title` per page,
`offset` being the byte where the page's stream starts. So any byte range that starts at a stream offset
can be decompressed and parsed on its own: that is how `corpus build --workers N` splits a dump
(`split_streams`), each worker reading only its share (`iter_stream_range`), one stream in memory at a time.

A page's `where` is `dump:stream @OFFSET page K` (K within its stream), which does not depend on how the
dump was split, so every split gives the same rejects.
"""

from __future__ import annotations

import bz2
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from synth.env.records import RawDoc
from synth.env.sources.mediawiki import _local, _namespace_names, _page
from synth.env.sources.wikitext import CATEGORY_NAMESPACES, FILE_NAMESPACES
from synth.errors import InputError

READ_BYTES = 1 << 20
FOOTER = b"</mediawiki>"


def index_for(dump: Path) -> Path | None:
    """The index Wikipedia ships beside a multistream dump, if it is there."""
    if not dump.name.endswith(".xml.bz2"):
        return None
    stem = dump.name[: -len(".xml.bz2")]
    for name in (f"{stem}-index.txt.bz2", f"{stem}-index.txt"):
        if (dump.parent / name).is_file():
            return dump.parent / name
    return None


def stream_offsets(index: Path) -> np.ndarray:
    """Distinct stream offsets of the index, ascending (one per ~100 pages: 70k for English Wikipedia)."""
    opener = bz2.open if index.name.endswith(".bz2") else open
    offsets: list[int] = []
    last = -1
    try:
        with opener(index, "rb") as fh:
            for number, line in enumerate(fh, 1):
                head = line.split(b":", 1)[0]
                if not head.strip():
                    continue
                if not head.isdigit():
                    raise InputError(str(index), number, "expected 'offset:page_id:title'", field="offset")
                if (offset := int(head)) != last:
                    offsets.append(offset)
                    last = offset
    except (OSError, EOFError) as exc:
        raise InputError(str(index), None, f"cannot read: {exc}") from None
    return np.unique(np.asarray(offsets, dtype=np.int64))


def split_streams(offsets: np.ndarray, size: int, tasks: int) -> list[tuple[int, int]]:
    """[start, end) byte ranges of whole streams, about size/tasks bytes each; empty shares are dropped."""
    if not len(offsets):
        return []
    cuts = np.searchsorted(offsets, [size * k // tasks for k in range(1, tasks)])
    starts = sorted({int(offsets[0]), *(int(offsets[c]) for c in cuts if c < len(offsets))})
    return [(start, end) for start, end in zip(starts, [*starts[1:], size])]


def iter_streams(path: Path, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """(offset, decompressed bytes) of every bz2 stream that starts in [start, end)."""
    with open(path, "rb") as fh:
        fh.seek(start)
        pos, at, pending = start, start, b""
        decoder, parts = bz2.BZ2Decompressor(), []
        while at < end:
            if not pending:
                pending = fh.read(READ_BYTES)
                if not pending:
                    break
                pos += len(pending)
            try:
                parts.append(decoder.decompress(pending))
            except OSError as exc:  # say which stream: the index tells which pages it holds
                raise OSError(f"bz2 stream at byte {at}: {exc}") from None
            pending = b""
            if decoder.eof:
                pending = decoder.unused_data
                yield at, b"".join(parts)
                at, decoder, parts = pos - len(pending), bz2.BZ2Decompressor(), []
        if parts and at < end:
            raise EOFError(f"bz2 stream at byte {at} ends before its end of stream")


def siteinfo_names(path: Path, first_offset: int) -> tuple[set[str], set[str]]:
    """File and category namespace names from the header stream (bytes [0, first_offset))."""
    file_ns, cat_ns = set(FILE_NAMESPACES), set(CATEGORY_NAMESPACES)
    for _, data in iter_streams(path, 0, first_offset):
        parser = ET.XMLPullParser(events=("end",))
        parser.feed(data)
        for _, elem in parser.read_events():
            if _local(elem.tag) == "siteinfo":
                _namespace_names(elem, file_ns, cat_ns)
    return file_ns, cat_ns


def iter_stream_range(path: Path, start: int, end: int, first_offset: int, *,
                      namespaces: tuple[int, ...] = (0,)) -> Iterator[RawDoc]:
    """The pages of the streams starting in [start, end), in dump order."""
    try:
        file_ns, cat_ns = siteinfo_names(path, first_offset)
        for offset, data in iter_streams(path, start, end):
            yield from _stream_pages(path, offset, data, namespaces, file_ns, cat_ns)
    except ET.ParseError as exc:
        raise InputError(str(path), None, f"malformed XML: {exc}") from None
    except (OSError, EOFError, ValueError) as exc:
        raise InputError(str(path), None, f"cannot read: {exc}") from None


def _stream_pages(path: Path, offset: int, data: bytes, namespaces, file_ns, cat_ns) -> Iterator[RawDoc]:
    if FOOTER in data[-64:]:
        data = data.replace(FOOTER, b"")
    parser = ET.XMLPullParser(events=("end",))
    number = 0
    try:
        for chunk in (b"<stream>", data, b"</stream>"):
            parser.feed(chunk)
        for _, elem in parser.read_events():
            if _local(elem.tag) != "page":
                continue
            number += 1
            doc = _page(elem, namespaces, file_ns, cat_ns, f"{path}:stream @{offset} page {number}")
            elem.clear()
            if doc is not None:
                yield doc
    except ET.ParseError as exc:
        raise ET.ParseError(f"stream at byte {offset}: {exc}") from None
