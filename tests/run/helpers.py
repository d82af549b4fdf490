"""Builders shared by the `synth run` tests: pipeline files, inputs, and the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

import synth.cli  # hands synth.run the command tree its stages are checked against


def trajectory(i: int) -> dict:
    """A small valid `trajectory` record (question, one search call, its result, the answer)."""
    call = {"id": f"c{i}", "type": "function", "function": {"name": "search", "arguments": json.dumps({"query": f"q{i}"})}}
    return {"id": f"traj-{i:06d}", "question": f"question {i}?", "messages": [
        {"role": "user", "content": f"question {i}?"},
        {"role": "assistant", "content": None, "tool_calls": [call], "loss": 1},
        {"role": "tool", "tool_call_id": f"c{i}", "name": "search", "content": f"result {i}", "loss": 0},
        {"role": "assistant", "content": f"answer {i}", "loss": 1}]}


def write_records(path: Path, n: int, start: int = 0, bad_row: int | None = None) -> Path:
    """`n` trajectories; `bad_row` (1-based) is a line that is not JSON."""
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            if bad_row is not None and i - start + 1 == bad_row:
                fh.write("{not json\n")
            else:
                fh.write(json.dumps(trajectory(i)) + "\n")
    return path


def write_pipeline(path: Path, spec: dict) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def chain(chunk: int = 10, second_format: str = "parquet") -> dict:
    """import -> import -> validate, all through ${stages.X.out}."""
    return {
        "workdir": "runs",
        "vars": {"chunk": chunk},
        "stages": {
            "first": {"command": "import", "args": ["in.jsonl"],
                      "flags": {"kind": "trajectory", "chunk-size": "${vars.chunk}"}},
            "second": {"command": "import", "flags": {"inputs": "${stages.first.out}", "kind": "trajectory",
                                                      "format": second_format}},
            "check": {"command": "validate", "args": ["${stages.second.out}"]},
        },
    }


def synth(*args: str, cwd: Path | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "synth.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def run_json(pipeline: Path, *extra: str) -> tuple[int, dict, str]:
    """`synth run PIPELINE --json` in this process (its stages are real child processes all the same):
    (exit code, summary, stderr). Saves a Python start-up per call; test_run.py also runs it as a process."""
    from typer.testing import CliRunner

    from synth.cli import app

    res = CliRunner().invoke(app, ["run", str(pipeline), "--json", *extra])
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"stdout must be one JSON object, got: {res.stdout!r}\nstderr: {res.stderr}"
    return res.exit_code, json.loads(lines[0]), res.stderr


def statuses(summary: dict) -> dict[str, str]:
    return {row["name"]: row["status"] for row in summary["stages"]}
