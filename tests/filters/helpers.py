"""Builders and a CLI runner shared by the filter tests (records are built here, never downloaded)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from synth.cli import app


def task(i: int | str, question: str, answer: str = "Paris", passed: int = 1) -> dict:
    """A generic QA record (generic, so these tests do not track the evolving deepsearch_task schema);
    `verified` is the first key of the keep-one policy."""
    return {"id": f"t{i}", "question": question, "answer": answer, "verified": passed}


def call(cid: str, name: str, **arguments) -> dict:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def trajectory(i: int | str, question: str, answer: str, url: str, thought: str = "Let me search.",
               correct: bool | None = True, final: str | None = None) -> dict:
    tools = [{"type": "function", "function": {"name": n, "parameters": {"type": "object"}}} for n in ("search", "visit")]
    return {
        "id": f"traj{i}", "question": question, "answer": answer, "tools": tools,
        "judgement": {"correct": correct, "method": "exact"},
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": thought, "tool_calls": [call(f"a{i}", "search", query=question)]},
            {"role": "tool", "tool_call_id": f"a{i}", "name": "search", "content": f"results for {question}"},
            {"role": "assistant", "content": "Opening the best hit.", "tool_calls": [call(f"b{i}", "visit", url=url)]},
            {"role": "tool", "tool_call_id": f"b{i}", "name": "visit", "content": f"page {url}"},
            {"role": "assistant", "content": final or f"The answer is {answer}."},
        ],
    }


def write_jsonl(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    return path


def run(*args: str) -> dict:
    """`synth ARGS --json` in-process (the embedding model loads once per test session)."""
    result = CliRunner().invoke(app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def rejects(out: Path) -> dict[str, dict]:
    files = sorted((out / "rejects").glob("*.parquet"))
    if not files:
        return {}
    frame = pl.read_parquet([str(f) for f in files])
    return {row["id"]: row for row in frame.select(["id", "reason", "detail", "step"]).to_dicts()}


def kept_ids(out: Path) -> list[str]:
    files = sorted((out / "data").glob("*.parquet"))
    return pl.read_parquet([str(f) for f in files])["id"].to_list() if files else []
