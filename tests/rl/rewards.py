"""Reward functions the RL tests pass as `--reward tests.rl.rewards:NAME`."""

from __future__ import annotations


def favour_paris(record: dict, completion: str) -> dict:
    """1 for exactly "paris", else 0: a reward that favours one fixed answer."""
    hit = completion.strip() == "paris"
    return {"total": float(hit), "paris": float(hit)}


def accepts(record: dict, completion: str) -> float:
    """1 when the completion is one of the record's `accept` answers ("*": any non-empty completion)."""
    accept = record["accept"]
    text = completion.strip()
    return float(bool(text) if accept == "*" else text in accept)
