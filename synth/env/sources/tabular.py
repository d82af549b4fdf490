"""JSONL / Parquet / Hugging Face dataset folders with `id, title, text` and optional fields.

Optional: `links` (a list of target titles, or of objects `{target, anchor?, start?, end?}` with
`text[start:end] == anchor`; a bare title gets the span of its first exact occurrence in the text),
`updated_at` (ISO 8601 or epoch seconds), `categories` (list of strings), `redirect` (target title;
the row is then a redirect and `text` may be empty).
Reading goes through `synth.dataset.iter_rows`, which streams and names file + row on bad input.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from synth.dataset import iter_rows
from synth.env.records import RawDoc, RawLink, parse_timestamp
from synth.errors import InputError


DEFAULT_MAX_DOC_BYTES = 20_000_000


def iter_tabular(path: Path, max_doc_bytes: int = DEFAULT_MAX_DOC_BYTES) -> Iterator[RawDoc]:
    if path.is_file() and path.name.endswith((".jsonl", ".jsonl.gz")):
        yield from _iter_jsonl_docs(path, max_doc_bytes)
        return
    for row in iter_rows([path]):
        yield to_raw(row.record, row.path, row.row)  # the size cap applies in synth.env.ingest


def _iter_jsonl_docs(path: Path, cap: int) -> Iterator[RawDoc]:
    """JSONL rows as documents; a row over `cap` bytes or not UTF-8 is a per-row reject, not the end of the
    build. A row over the cap is skipped without being held in memory."""
    import gzip
    import zlib

    from synth.dataset import one_line

    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            number = 0
            while (line := _read_line(fh, cap)) is not None:
                number += 1
                raw, size = line
                del line
                where = f"{path}:{number}"
                if raw is None:
                    yield _rejected(where, "doc_too_large", f"row of {size} bytes over --max-doc-bytes {cap}")
                elif not raw or raw.isspace():
                    continue
                elif (bad := _invalid_utf8_at(raw)) is not None:
                    yield _rejected(where, "invalid_utf8", f"invalid UTF-8 at byte {bad} of the row")
                else:
                    record = _parse_row(raw, path, number)
                    del raw  # the line's bytes go before the document is staged: one copy of the text, not two
                    yield to_raw(record, str(path), number)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(str(path), None, f"cannot read: {one_line(exc)}") from None


def _parse_row(raw: bytes, path: Path, number: int) -> dict:
    """`synth.dataset._parse_line` without its whole-line UTF-8 decode (a second copy of a large row):
    the line was checked piece by piece already, and orjson parses the bytes."""
    from synth.dataset import BOM, parse_json

    record = parse_json(raw[len(BOM):] if number == 1 and raw.startswith(BOM) else raw, path, number)
    if not isinstance(record, dict):
        raise InputError(str(path), number, f"expected a JSON object, got {type(record).__name__}")
    return record


LINE_PIECE = 1 << 20


def _read_line(fh, cap: int) -> tuple[bytearray | None, int] | None:
    """The next line (None when over `cap`) and its size, or None at the end of the file. The line is
    gathered a megabyte at a time into one bytearray, grown in place (`readline(cap + 1)` held a large line
    twice while joining its chunks); a function, not a generator, so the caller holds its only reference."""
    raw: bytearray | None = bytearray()
    size = 0
    while piece := fh.readline(LINE_PIECE):
        size += len(piece)
        if raw is not None:
            raw += piece
            if size > cap and not (size == cap + 1 and piece.endswith(b"\n")):
                raw = None  # over the cap: drain the rest of the line without keeping it
        if piece.endswith(b"\n"):
            break
    return (raw, size) if size else None


UTF8_PIECE = 1 << 20


def _invalid_utf8_at(raw: bytes) -> int | None:
    """Where the first invalid UTF-8 byte is, or None; decoded a megabyte at a time and thrown away, so a
    20 MB row costs no 20 MB string (an incremental decoder carries a character cut between pieces)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    ends = [*range(3 if raw.startswith(b"\xef\xbb\xbf") else 0, len(raw), UTF8_PIECE), len(raw)]
    for at in ends:
        pending = len(decoder.getstate()[0])  # bytes of a character cut at the previous piece's end
        try:
            decoder.decode(view[at: at + UTF8_PIECE], final=at == len(raw))
        except UnicodeDecodeError as exc:
            return at - pending + exc.start
    return None


def _rejected(where: str, reason: str, detail: str) -> RawDoc:
    return RawDoc(id="", title="", text="", where=where, problem=(reason, detail))


def _field(record: dict, name: str, where: tuple[str, int], *, required: bool = True) -> str | None:
    value = record.get(name)
    if value is None:
        if required:
            raise InputError(where[0], where[1], "missing (a corpus row needs id, title and text)", field=name)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(where[0], where[1], f"expected a string, got {type(value).__name__}", field=name)
    return str(value)


def to_raw(record: dict, path: str, row: int) -> RawDoc:
    where = (path, row)
    doc = RawDoc(id=_field(record, "id", where), title=_field(record, "title", where),
                 text=_field(record, "text", where, required=record.get("redirect") is None) or "",
                 redirect=_field(record, "redirect", where, required=False), where=f"{path}:{row}")
    categories = record.get("categories") or []
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise InputError(path, row, "expected a list of strings", field="categories")
    doc.categories = list(categories)
    try:
        doc.updated_at = parse_timestamp(record.get("updated_at"))
    except (ValueError, OverflowError, OSError) as exc:
        doc.problem = ("invalid_updated_at", f"{record.get('updated_at')!r}: {exc}")
    doc.links = _links(record.get("links"), doc, where)
    return doc


def _links(value: object, doc: RawDoc, where: tuple[str, int]) -> list[RawLink]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(where[0], where[1], "expected a list of titles or link objects", field="links")
    links = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            links.append(_locate(item, doc.text))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("target"), str):
            raise InputError(where[0], where[1], "expected a title or an object with a string 'target'",
                             field=f"links[{i}]")
        link = RawLink(item["target"], item.get("anchor"), item.get("start"), item.get("end"))
        if not _span_ok(link, doc.text):
            doc.problem = doc.problem or ("invalid_link_span", f"links[{i}]: text[start:end] != anchor")
        links.append(link)
    return links


def _locate(target: str, text: str) -> RawLink:
    """A bare target title gets the span of its first exact occurrence in the text, when there is one."""
    at = text.find(target) if target else -1
    if at < 0:
        return RawLink(target=target)
    return RawLink(target=target, anchor=target, start=at, end=at + len(target))


def _span_ok(link: RawLink, text: str) -> bool:
    if link.start is None and link.end is None:
        return True
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (link.start, link.end)):
        return False
    if not 0 <= link.start <= link.end <= len(text):
        return False
    return link.anchor is None or text[link.start: link.end] == link.anchor
