"""Small builders shared by the core tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def trajectory(i: int) -> dict:
    call = {"id": f"c{i}", "type": "function", "function": {"name": "search", "arguments": json.dumps({"query": f"q{i}"})}}
    return {
        "id": f"traj-{i:06d}",
        "question": f"question {i}?",
        "messages": [
            {"role": "user", "content": f"question {i}?"},
            {"role": "assistant", "content": None, "tool_calls": [call], "loss": 1, "weight": 1.0},
            {"role": "tool", "tool_call_id": f"c{i}", "name": "search", "content": f"result {i}", "loss": 0},
            {"role": "assistant", "content": f"answer {i}", "loss": 1,
             "turn_label": {"label": "essential", "scores": {"information_gain": 1.0}, "judge": "rule"}},
        ],
        "tools": [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}],
    }


def write_jsonl(path: Path, records) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(record) + "\n" for record in records)
    return path


def synth(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess (exit codes, stdout/stderr separation, signals are all real)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "synth.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def without_nulls(value):
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value
