"""Running the judge commands in-process (CliRunner: no interpreter start-up per run) and reading outputs."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from synth.cli import app


def run(*args: str, expect: int = 0) -> dict | str:
    """`synth ARGS --json` in-process: the JSON summary (exit 0) or stderr (other exit codes)."""
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == expect, (result.exit_code, result.stderr, result.stdout)
    return json.loads(result.stdout.strip().splitlines()[-1]) if expect == 0 else result.stderr


def judge(kind: str, src, out: Path, url: str, *extra: str, expect: int = 0):
    return run("judge", kind, *map(str, src if isinstance(src, list) else [src]), "--out", str(out),
               "--teacher", f"openai:{url}", "--model", "fake-model", *extra, expect=expect)


def data(out: Path) -> list[dict]:
    """Output records, decoded as synth reads them (free-form parts are objects again)."""
    from synth.dataset import read_records

    return list(read_records([str(out)]))


def rejects(out: Path) -> list[dict]:
    files = sorted((Path(out) / "rejects").glob("*.parquet"))
    if not files:
        return []
    rows = pl.read_parquet([str(f) for f in files]).to_dicts()
    for row in rows:
        row["record"] = json.loads(row["record"]) if row["record"] else None
    return rows


def manifest(out: Path) -> dict:
    return json.loads((Path(out) / "manifest.json").read_text())
