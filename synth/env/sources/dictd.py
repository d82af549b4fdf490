"""dictd databases (`NAME.index` + `NAME.dict` or `NAME.dict.dz`), read block by block in file order.

A dictd index line is `headword<TAB>offset<TAB>length`, numbers in dictd's base64. Several headwords can
point at the same block (aliases); a block starts with its headword lines, a blank line, then the
body indented by three spaces. dictzip files are gzip files, so they are read sequentially with
`gzip` (blocks are visited in offset order, never seeking backwards): memory stays constant.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from synth.errors import InputError

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {c: i for i, c in enumerate(B64)}
MAX_BLOCK = 64 << 20  # bytes; no dictionary entry comes near this


@dataclass(frozen=True)
class Block:
    offset: int
    headwords: list[str]  # from the block itself (original case), in order
    body: str  # everything after the first blank line, untouched
    line: int  # 1-based index line of the block's first headword (for messages)


def b64_number(text: str) -> int:
    value = 0
    for ch in text:
        value = value * 64 + _B64_VALUE[ch]
    return value


def pair_for(path: Path) -> tuple[Path, Path]:
    """(index, data) for `X.index`, `X.dict`, `X.dict.dz` or the bare stem `X`."""
    name = path.name
    for suffix in (".index", ".dict.dz", ".dict"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    stem = path.with_name(name)
    index = stem.with_name(name + ".index")
    data = next((p for p in (stem.with_name(name + ".dict.dz"), stem.with_name(name + ".dict")) if p.is_file()), None)
    if not index.is_file() or data is None:
        raise InputError(str(path), None, f"a dictd database needs {name}.index and {name}.dict(.dz) side by side")
    return index, data


def read_spans(index: Path) -> list[tuple[int, int, int]]:
    """Unique (offset, length, first index line) spans, sorted by offset, without dictfmt's metadata
    blocks (headwords `00-database-*`: url, info, alphabet...)."""
    spans: dict[tuple[int, int], int] = {}
    meta: set[tuple[int, int]] = set()
    with open(index, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                if line.strip():
                    raise InputError(str(index), number, "expected 'headword<TAB>offset<TAB>length'")
                continue
            try:
                key = (b64_number(parts[-2]), b64_number(parts[-1]))
            except KeyError:
                raise InputError(str(index), number, "offset/length is not dictd base64") from None
            spans.setdefault(key, number)
            if parts[0].startswith(("00-database", "00database")):
                meta.add(key)
    return sorted((off, size, line) for (off, size), line in spans.items() if (off, size) not in meta)


def iter_blocks(path: Path) -> Iterator[Block]:
    """Every block of a dictd database except the metadata blocks."""
    index, data = pair_for(path)
    opener = gzip.open if data.name.endswith(".dz") else open
    try:
        with opener(data, "rb") as fh:
            yield from _blocks(fh, index, data)
    except (OSError, EOFError, zlib.error) as exc:  # unreadable file, damaged dictzip stream
        raise InputError(str(data), None, f"cannot read: {' '.join(str(exc).split())}") from None


def _blocks(fh, index: Path, data: Path) -> Iterator[Block]:
    position = 0
    for offset, size, line in read_spans(index):
        if offset < position:  # overlapping spans: an index we cannot read sequentially
            raise InputError(str(index), line, "blocks overlap; not a dictfmt database")
        if size > MAX_BLOCK:  # read() would try to allocate it all before finding the file shorter
            raise InputError(str(index), line, f"block length {size} is over {MAX_BLOCK} bytes: a damaged index")
        fh.seek(offset)
        raw = fh.read(size)
        position = offset + size
        if len(raw) < size:
            raise InputError(str(data), None, f"truncated: block at byte {offset} runs past the end")
        text = raw.decode("utf-8", errors="replace")
        head, _, body = text.partition("\n\n")
        yield Block(offset, _headwords(head), body, line)


def _headwords(head: str) -> list[str]:
    # FOLDOC's own entry lists its names joined by '%%%' and wrapped across lines.
    if "%%%" in head:
        names = " ".join(head.split("\n")).split("%%%")
    else:
        names = head.split("\n")
    out: list[str] = []
    for name in (n.strip() for n in names):
        if name and name not in out:
            out.append(name)
    return out
