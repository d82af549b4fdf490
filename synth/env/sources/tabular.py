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

    from synth.dataset import _parse_line, one_line

    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            for number, raw, size in _bounded_lines(fh, cap):
                where = f"{path}:{number}"
                if raw is None:
                    yield _rejected(where, "doc_too_large", f"row of {size} bytes over --max-doc-bytes {cap}")
                elif not raw.strip():
                    continue
                elif (bad := _invalid_utf8_at(raw)) is not None:
                    yield _rejected(where, "invalid_utf8", f"invalid UTF-8 at byte {bad} of the row")
                else:
                    yield to_raw(_parse_line(raw, path, number), str(path), number)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(str(path), None, f"cannot read: {one_line(exc)}") from None


def _bounded_lines(fh, cap: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, bytes or None when over `cap`, size) of every line, reading at most cap+1 bytes of one."""
    number = 0
    while raw := fh.readline(cap + 1):
        number += 1
        if len(raw) <= cap or raw.endswith(b"\n"):
            yield number, raw, len(raw)
            continue
        size = len(raw)
        del raw
        while piece := fh.readline(1 << 20):  # drain the rest of the oversized line
            size += len(piece)
            if piece.endswith(b"\n"):
                break
        yield number, None, size


def _invalid_utf8_at(raw: bytes) -> int | None:
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    try:
        raw[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start + start
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
