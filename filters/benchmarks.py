"""Benchmark question lists for decontamination: JSONL, JSON, Parquet or CSV with a question/prompt field,
plain or encrypted the way their authors ship them (see tests/data/shared/SOURCES.md):

  scheme A (BrowseComp, BrowseComp-ZH): base64, XOR with SHA-256(canary) repeated;
  scheme B (xbench):                     base64, XOR with the canary's UTF-8 bytes repeated.

Encrypted rows are decrypted in memory only; nothing derived from their text is ever written (reject
details name the item as `FILE#ID`, never its words). A row counts as encrypted when it has a canary field;
the scheme is the one whose output is valid UTF-8 without control characters.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from synth.errors import InputError, UserError

QUESTION_FIELDS = ("question", "problem", "prompt", "query", "input", "instruction")
ID_FIELDS = ("id", "task_id", "qid", "uid", "question_id")


@dataclass(frozen=True)
class Item:
    label: str  # FILE#ID: what reject details cite
    text: str   # in memory only


def load(paths: list[str | Path]) -> list[Item]:
    items: list[Item] = []
    for path in paths:
        found = list(_items(Path(path)))
        if not found:
            raise InputError(str(path), None, "no benchmark items (expected a question/prompt field)")
        items.extend(found)
    return items


def _items(path: Path) -> Iterator[Item]:
    for number, row in _rows(path):
        lowered = {str(k).lower(): v for k, v in row.items()}
        field = next((f for f in QUESTION_FIELDS if isinstance(lowered.get(f), str) and lowered[f].strip()), None)
        if field is None:
            raise InputError(str(path), number, f"no question field (one of {', '.join(QUESTION_FIELDS)})")
        text = lowered[field]
        if lowered.get("canary"):
            text = decrypt(text, str(lowered["canary"]))
            if text is None:
                raise InputError(str(path), number, "cannot decrypt (neither SHA-256(canary) nor canary XOR)",
                                 field=field)
        ident = next((lowered[f] for f in ID_FIELDS if lowered.get(f) not in (None, "")), number)
        yield Item(f"{path.name}#{ident}", text)


def decrypt(value: str, canary: str) -> str | None:
    try:
        cipher = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    for key in (hashlib.sha256(canary.encode()).digest(), canary.encode()):
        stream = (key * (len(cipher) // len(key) + 1))[:len(cipher)]
        try:
            plain = bytes(a ^ b for a, b in zip(cipher, stream)).decode("utf-8")
        except UnicodeDecodeError:
            continue
        if sum(1 for ch in plain if ord(ch) < 32 and ch not in "\n\r\t") <= len(plain) // 100:
            return plain
    return None


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    if not path.is_file():
        raise UserError(f"--decontam: {path}: no such file")
    name = path.name.lower()
    if name.endswith(".csv"):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            yield from enumerate(csv.DictReader(fh), start=2)  # row 1 is the header
    elif name.endswith(".parquet"):
        import pyarrow.parquet as pq

        yield from enumerate(pq.read_table(path).to_pylist(), start=1)
    elif name.endswith(".jsonl"):
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    yield number, _object(line, path, number)
    elif name.endswith(".json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        yield from enumerate(data if isinstance(data, list) else [data], start=1)
    else:
        raise UserError(f"--decontam: {path}: expected .jsonl, .json, .parquet or .csv")


def _object(line: str, path: Path, number: int) -> dict:
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise InputError(str(path), number, f"malformed JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InputError(str(path), number, "expected a JSON object")
    return value
