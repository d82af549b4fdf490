"""Shared bits of the cap and dry-run tests: prompts, a priced scripted teacher, CLI runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tests.core.helpers import write_jsonl
from tests.teachers.fake_openai import Say, last_user

PROMPT_TOKENS, COMPLETION_TOKENS = 10, 5  # what the scripted teacher reports for every request


def priced_echo(req):
    """A reply that depends on the prompt and the request's seed (equal outputs prove equal payloads), with
    a fixed usage, so every request costs exactly PROMPT_TOKENS + COMPLETION_TOKENS."""
    return Say(f"{last_user(req)} / seed {req.body.get('seed')}",
               usage={"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS})


def prompts(tmp_path: Path, n: int = 12) -> Path:
    return write_jsonl(tmp_path / "prompts.jsonl", [{"id": f"p{i}", "messages": [
        {"role": "system", "content": "Answer briefly."}, {"role": "user", "content": f"prompt {i} " + "word " * i}]}
        for i in range(n)])


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> Result:
    """The real CLI, in-process (a subprocess per call costs seconds of start-up on 2 cores): same Typer app,
    same exit codes; stdout and stderr apart."""
    from typer.testing import CliRunner

    from synth.cli import app

    res = CliRunner().invoke(app, list(args))
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return Result(res.exit_code, res.stdout, res.stderr)


def responses(fake_openai, src: Path, out: Path, *extra: str):
    """`synth generate responses` (n=2, chunks of 2 prompts) against the scripted teacher; (result, summary)."""
    res = cli("generate", "responses", str(src), "--out", str(out), "--teacher", f"openai:{fake_openai.url}",
              "--model", "fake-model", "--n", "2", "--chunk-size", "2", "--max-concurrency", "4",
              "--retry-backoff", "0.01", "--json", *extra)
    summary = json.loads(res.stdout) if res.stdout.strip() else None
    return res, summary


def frame(out: Path) -> pl.DataFrame:
    return pl.read_parquet(str(out / "data" / "*.parquet")).sort("id")
