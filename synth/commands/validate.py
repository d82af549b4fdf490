"""`synth validate DIR|FILE`: check every record against its schema; list each violation; exit 2 if any.

A synth dataset's shards are also held to the manifest's certificates (sizes and parquet footers; content
hashes with --deep; none with --no-verify): a missing, added, cut or re-written shard is a violation.

Unlike the readers (which stop at the first bad record), validation keeps going and reports every
violation as `file:row: field 'path': message`, so a user fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import typer

from synth import integrity, schemas
from synth.cli_common import command
from synth.dataset import MANIFEST, REJECTS, data_files, expand, is_dataset_dir, read_manifest
from synth.errors import InputError, UserError
from synth.options import Common, flag, options


def _file_rows(file: Path, stored_kind: str | None) -> Iterator[tuple[int | None, dict | None, str | None]]:
    """(row, record, parse error) for every row; a bad JSONL line does not stop the scan."""
    from synth.dataset import _iter_file, _parse_line

    if file.name.endswith(".jsonl"):
        with open(file, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if raw.strip():
                    try:
                        yield number, _parse_line(raw, file, number), None
                    except InputError as exc:
                        yield number, None, exc.message
        return
    try:
        for row in _iter_file(file, stored_kind):
            yield row.row, row.record, None
    except InputError as exc:
        yield exc.row, None, exc.message


def violations(target: Path, kind: str | None) -> Iterator[str]:
    targets: list[tuple[Path, str | None, str]] = []
    if is_dataset_dir(target):
        manifest = read_manifest(target)
        if manifest is None:
            yield f"{target / MANIFEST}: not valid JSON"
            return
        for field, message in schemas.iter_errors(manifest, "manifest"):
            yield f"{target / MANIFEST}: field '{field}': {message}"
        if integrity.mode() != "off":  # shards against their certificates (--deep: content hashes too)
            yield from integrity.dataset_problems(target, deep=integrity.mode() == "deep")
        stored = manifest.get("kind")
        kind = kind or stored
        targets += [(f, stored, kind) for f in data_files(target) if f.is_file()]
        targets += [(f, "reject", "reject") for f in sorted((target / REJECTS).glob("*")) if f.suffix in (".parquet", ".jsonl")]
    else:
        if not kind:
            raise UserError(f"{target}: not a synth dataset directory; pass --kind to validate plain files")
        targets += [(f, None, kind) for f, _ in expand(target)]
    for file, stored, check_kind in targets:
        for row, record, error in _file_rows(file, stored):
            where = f"{file}:{row}" if row else str(file)
            if error:
                yield f"{where}: {error}"
                continue
            for field, message in schemas.iter_errors(record, check_kind):
                yield f"{where}: field '{field}': {message}"


@options
class ValidateOptions(Common):
    target: Path = flag(help="A synth dataset directory, or a JSONL/Parquet file or folder (with --kind).",
                        argument=True)
    kind: str | None = flag(None, f"Record kind to check against: {', '.join(schemas.kinds())}.")
    max_errors: int = flag(50, "Stop listing after this many violations.", min=1)


def run(opts: ValidateOptions) -> dict:
    """Check every record against its JSON Schema; print file, row and field of each violation."""
    kind, json_out, max_errors = opts.kind, opts.json_out, opts.max_errors
    if kind and kind not in schemas.kinds():
        raise UserError(f"--kind must be one of {', '.join(schemas.kinds())}, got {kind!r}")
    found = []
    for line in violations(opts.target, kind):
        found.append(line)
        if not json_out and len(found) <= max_errors:
            typer.echo(line, err=True)
    if found and not json_out and len(found) > max_errors:
        typer.echo(f"... and {len(found) - max_errors} more", err=True)
    summary = {"target": str(opts.target), "valid": not found, "violations": len(found)}
    if json_out:
        summary["first"] = found[:max_errors]
    if found:
        summary["exit_code"] = 2
    return summary


def register(app: typer.Typer) -> None:
    command(app, "validate", ValidateOptions, run)
