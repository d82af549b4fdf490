"""The one reader for every input synth accepts, and the dataset-directory layout.

Inputs: JSONL (`.jsonl`, `.jsonl.gz`), JSON (`.json`: an array of records or one record), Parquet, a
folder of those, a Hugging Face `save_to_disk` folder, or a synth dataset directory
(`data/*.parquet|jsonl` + `manifest.json`; its kind's JSON-text columns are decoded again).

Reading streams: memory does not grow with input size (except `.json`, which is one document).
Every problem is an `InputError` naming file, 1-based row (the line for JSONL) and field.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth import kinds, schemas
from synth.errors import InputError, UserError

DATA, REJECTS, STATE, MANIFEST = "data", "rejects", ".synth", "manifest.json"
RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".parquet")
BOM = b"\xef\xbb\xbf"


@dataclass
class Row:
    path: str
    row: int  # 1-based
    record: dict


def is_dataset_dir(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def read_manifest(path: Path) -> dict | None:
    try:
        return json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # missing, damaged or absurdly nested: no manifest
        return None


def dataset_kind(path: Path) -> str | None:
    manifest = read_manifest(path) if is_dataset_dir(Path(path)) else None
    return manifest.get("kind") if manifest else None


def data_files(folder: Path) -> list[Path]:
    """A synth dataset's shards in output order."""
    files = [p for p in (folder / DATA).glob("*") if p.name.endswith((".parquet", ".jsonl"))]
    return sorted(files, key=lambda p: p.name)


def looks_like_dataset(path: Path) -> bool:
    """A synth output folder (data/ beside .synth/ or rejects/) whose manifest.json is gone."""
    return path.is_dir() and (path / DATA).is_dir() and ((path / STATE).is_dir() or (path / REJECTS).is_dir())


PLAIN_KIND_ENV = "SYNTH_PLAIN_KIND"  # set by the CLI while a command runs with --kind (synth.cli_common)


def _unmanifested(folder: Path) -> list[tuple[Path, str | None]]:
    """Without its manifest a synth output is unverifiable and its kind unknown: refuse it, unless the user
    names the kind (--kind); then only data/ is read, never rejects/."""
    if not os.environ.get(PLAIN_KIND_ENV):
        raise InputError(str(folder), None, f"has data/ but no {MANIFEST}: not a complete synth dataset (re-run "
                         "the command that made it to finish it, or pass --kind to read its data/ as plain records)")
    files = [f for f in _plain_files(folder / DATA)]
    if not files:
        raise InputError(str(folder / DATA), None, f"folder holds no {', '.join(RECORD_SUFFIXES)} files")
    return [(f, None) for f in files]


def _plain_files(folder: Path) -> list[Path]:
    found = [p for p in folder.rglob("*") if p.is_file() and p.name.endswith(RECORD_SUFFIXES)]
    visible = [p for p in found if not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return sorted(visible)


def expand(path: str | Path) -> list[tuple[Path, str | None]]:
    """(file or HF folder, kind stored with it) for one input argument."""
    p = Path(path)
    if not p.exists():
        raise InputError(str(p), None, "no such file or directory")
    if is_dataset_dir(p):
        from synth.integrity import check_input

        check_input(p)
        kind = dataset_kind(p)
        return [(f, kind) for f in data_files(p)]
    if looks_like_dataset(p):
        return _unmanifested(p)
    if p.is_dir() and ((p / "dataset_info.json").is_file() or (p / "dataset_dict.json").is_file()):
        return [(p, None)]
    if p.is_dir():
        files = _plain_files(p)
        if not files:
            raise InputError(str(p), None, f"folder holds no {', '.join(RECORD_SUFFIXES)} files")
        return [(f, None) for f in files]
    if not p.name.endswith(RECORD_SUFFIXES):
        raise InputError(str(p), None, f"unsupported file type; expected one of {', '.join(RECORD_SUFFIXES)}")
    return [(p, None)]


def iter_rows(paths: list[str | Path], kind: str | None = None) -> Iterator[Row]:
    """Every record of every input, validated against `kind` when given (InputError on the first bad one)."""
    for path in paths:
        files = expand(path)
        if kind and files and (wrong := kinds.stored_mismatch(str(path), files[0][1], kind)):
            raise wrong  # before the first record: the dataset says what it is
        for file, stored_kind in files:
            for row in _iter_file(file, stored_kind):
                if kind:
                    _check(row, kind)
                yield row


def read_records(paths: list[str | Path], kind: str | None = None) -> Iterator[dict]:
    """Just the records (see `iter_rows`)."""
    for row in iter_rows(paths, kind):
        yield row.record


def _check(row: Row, kind: str) -> None:
    error = schemas.first_error(row.record, kind)
    if error:
        raise kinds.record_mismatch(row.path, row.row, row.record, kind, error)


def _iter_file(file: Path, stored_kind: str | None) -> Iterator[Row]:
    if file.is_dir():
        yield from _iter_hf(file)
    elif file.name.endswith(".parquet"):
        yield from _iter_parquet(file, stored_kind)
    elif file.name.endswith(".json"):
        yield from _iter_json(file)
    else:
        yield from _iter_jsonl(file)


def iter_jsonl(file: str | Path) -> Iterator[Row]:
    """The rows of one JSONL file whatever its name (seed lists and other side inputs): same checks and
    messages as every other input."""
    return _iter_jsonl(Path(file))


def _iter_jsonl(file: Path) -> Iterator[Row]:
    opener = gzip.open if file.name.endswith(".gz") else open
    try:
        with opener(file, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                # JSONL shards hold natural JSON (free-form parts stay objects): nothing to decode.
                yield Row(str(file), number, _parse_line(raw, file, number))
    except (OSError, EOFError, zlib.error) as exc:  # truncated or corrupt gzip, unreadable file
        raise InputError(str(file), None, f"cannot read: {one_line(exc)}") from None


def _parse_line(raw: bytes, file: Path, number: int) -> dict:
    if number == 1 and raw.startswith(BOM):  # files saved by some Windows tools start with a BOM
        raw = raw[len(BOM):]
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(file), number, f"invalid UTF-8 at byte {exc.start} of the line") from None
    record = parse_json(raw, file, number)
    if not isinstance(record, dict):
        raise InputError(str(file), number, f"expected a JSON object, got {type(record).__name__}")
    return record


def parse_json(raw: bytes, file: Path | str, row: int | None) -> Any:
    """One JSON document (a JSONL line, a .json file). Strict JSON, as orjson reads it: no NaN/Infinity, no
    number beyond a double, no lone surrogate, at most 1024 levels of nesting; anything else is an
    InputError naming file and row (never a RecursionError or a ValueError from deep inside a parser)."""
    import orjson

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        message, line = f"{exc.msg} (column {exc.colno})", exc.lineno
    try:  # the stdlib parser words the common errors better; only its wording is used
        json.loads(raw)
    except json.JSONDecodeError as exc:
        message, line = f"{exc.msg} (column {exc.colno})", exc.lineno
    except (RecursionError, ValueError):
        pass
    raise InputError(str(file), row if row is not None else line, f"malformed JSON: {message}")


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (pyarrow's and others' span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _iter_json(file: Path) -> Iterator[Row]:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InputError(str(file), None, f"cannot read: {one_line(exc)}") from None
    raw = raw.removeprefix(BOM)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(file), None, f"invalid UTF-8 at byte {exc.start}") from None
    data = parse_json(raw, file, None)
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise InputError(str(file), number, f"expected a JSON object, got {type(record).__name__}")
        yield Row(str(file), number, record)


def _iter_parquet(file: Path, stored_kind: str | None) -> Iterator[Row]:
    import pyarrow.parquet as pq

    from synth import arrow

    try:
        handle = pq.ParquetFile(file)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise InputError(str(file), None, f"not a readable parquet file: {one_line(exc)}") from None
    number = 0
    for group in range(handle.metadata.num_row_groups):  # one row group at a time: a damaged one is named
        start = number
        batches = handle.iter_batches(batch_size=512, row_groups=[group])
        while True:
            try:  # a corrupt page or column chunk fails only when it is read
                batch = next(batches, None)
                rows = batch.to_pylist() if batch is not None else None
            except Exception as exc:  # noqa: BLE001 - pyarrow's ArrowInvalid/OSError/... for damaged data
                raise _damaged(handle, file, group, start, exc) from None
            if rows is None:
                break
            for record in rows:
                number += 1
                try:
                    yield Row(str(file), number, arrow.decode(record, stored_kind) if stored_kind else record)
                except ValueError as exc:  # a JSON-text column that does not parse
                    raise InputError(str(file), number, f"malformed JSON text: {one_line(exc)}") from None


def _damaged(handle, file: Path, group: int, start: int, exc: Exception) -> InputError:
    """The row group and its first row the reader cannot decode (pages fail as a whole: the first row of
    the first bad page is as exact as parquet allows)."""
    size = handle.metadata.row_group(group).num_rows
    bad = start + 1
    try:
        for offset, _ in enumerate(handle.iter_batches(batch_size=1, row_groups=[group])):
            bad = start + offset + 2  # rows start..start+offset decoded; the next one is the suspect
    except Exception:  # noqa: BLE001 - the failure we are locating
        pass
    where = f"row group {group} (rows {start + 1}-{start + size}), first unreadable row {min(bad, start + size)}"
    return InputError(str(file), min(bad, start + size), f"corrupt parquet data in {where}: {one_line(exc)}")


def _iter_hf(folder: Path) -> Iterator[Row]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(folder))
    except Exception as exc:
        raise InputError(str(folder), None, f"not a readable Hugging Face dataset folder: {one_line(exc)}") from None
    splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    for split, ds in sorted(splits, key=lambda item: item[0] or ""):
        label = f"{folder}[{split}]" if split else str(folder)
        rows = iter(ds)
        number = 0
        while True:
            try:  # damaged Arrow data can fail only when read
                record = next(rows, None)
            except Exception as exc:  # noqa: BLE001 - pyarrow/datasets raise many types
                raise InputError(label, number + 1, f"corrupt dataset data: {one_line(exc)}") from None
            if record is None:
                break
            number += 1
            yield Row(label, number, record)


def require_new_or_dataset(out: Path) -> None:
    """Refuse to write into a non-empty folder that is not a synth output (it would mix files)."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: --out exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / STATE).is_dir():
        raise UserError(f"{out}: --out is a non-empty folder that synth did not create; choose another --out")
