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
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from synth import schemas
from synth.errors import InputError, UserError

DATA, REJECTS, STATE, MANIFEST = "data", "rejects", ".synth", "manifest.json"
RECORD_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".parquet")


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
    except (OSError, ValueError):
        return None


def dataset_kind(path: Path) -> str | None:
    manifest = read_manifest(path) if is_dataset_dir(Path(path)) else None
    return manifest.get("kind") if manifest else None


def data_files(folder: Path) -> list[Path]:
    """A synth dataset's shards in output order."""
    files = [p for p in (folder / DATA).glob("*") if p.name.endswith((".parquet", ".jsonl"))]
    return sorted(files, key=lambda p: p.name)


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
        kind = dataset_kind(p)
        return [(f, kind) for f in data_files(p)]
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
        for file, stored_kind in expand(path):
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
        raise InputError(row.path, row.row, error[1], field=error[0])


def _iter_file(file: Path, stored_kind: str | None) -> Iterator[Row]:
    if file.is_dir():
        yield from _iter_hf(file)
    elif file.name.endswith(".parquet"):
        yield from _iter_parquet(file, stored_kind)
    elif file.name.endswith(".json"):
        yield from _iter_json(file)
    else:
        yield from _iter_jsonl(file)


def _iter_jsonl(file: Path) -> Iterator[Row]:
    import orjson

    opener = gzip.open if file.name.endswith(".gz") else open
    try:
        with opener(file, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                # JSONL shards hold natural JSON (free-form parts stay objects): nothing to decode.
                yield Row(str(file), number, _parse_line(raw, file, number, orjson))
    except (OSError, EOFError) as exc:  # truncated gzip, unreadable file
        raise InputError(str(file), None, f"cannot read: {exc}") from None


def _parse_line(raw: bytes, file: Path, number: int, orjson) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(file), number, f"invalid UTF-8 at byte {exc.start} of the line") from None
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:  # the stdlib parser words its errors better
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(str(file), number, f"malformed JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(record, dict):
        raise InputError(str(file), number, f"expected a JSON object, got {type(record).__name__}")
    return record


def _iter_json(file: Path) -> Iterator[Row]:
    try:
        data = json.loads(file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(str(file), None, f"invalid UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise InputError(str(file), exc.lineno, f"malformed JSON: {exc.msg} (column {exc.colno})") from None
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
        raise InputError(str(file), None, f"not a readable parquet file: {exc}") from None
    number = 0
    for batch in handle.iter_batches(batch_size=512):
        for record in batch.to_pylist():
            number += 1
            try:
                yield Row(str(file), number, arrow.decode(record, stored_kind) if stored_kind else record)
            except ValueError as exc:  # a JSON-text column that does not parse
                raise InputError(str(file), number, f"malformed JSON text: {exc}") from None


def _iter_hf(folder: Path) -> Iterator[Row]:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(folder))
    except Exception as exc:
        raise InputError(str(folder), None, f"not a readable Hugging Face dataset folder: {exc}") from None
    splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    for split, ds in sorted(splits, key=lambda item: item[0] or ""):
        label = f"{folder}[{split}]" if split else str(folder)
        for number, record in enumerate(ds, start=1):
            yield Row(label, number, record)


def require_new_or_dataset(out: Path) -> None:
    """Refuse to write into a non-empty folder that is not a synth output (it would mix files)."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: --out exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / STATE).is_dir():
        raise UserError(f"{out}: --out is a non-empty folder that synth did not create; choose another --out")
