"""Spending caps for teacher runs: `--max-tokens-total`, `--max-cost` (with `--price IN:OUT`).

What is counted: tokens the teacher really processed for this --out, over every run so far (prompt +
completion tokens of each request sent; replays from the request cache cost nothing and count nothing).
A cap is a total for the output directory, not per invocation: that is what makes "raise the cap and
re-run" resume where the capped run stopped, and what keeps a crash/re-run loop from spending twice.

Where it is counted: a small file-based ledger, OUT/.synth/budget/RRRRR.json, one file per datatrove task,
each written (write-then-rename) only by its task. A task's spend = its own live counter + the others'
files, re-read at most every REFRESH_S. Why files and not per-task shares (cap / tasks): shares stop a run
early whenever tasks are unbalanced (one task's unused share helps nobody); and why not a lock: one writer
per file needs none, works on any file system where rename is atomic (NFS/Lustre under Slurm included),
and a task that died holds nothing. The cost: another task's spend is seen up to REFRESH_S late, except
near a cap (within NEAR of it), where every task publishes after each request and re-reads before each.

How exact the stop is: see synth.teachers.gate (admission before each request).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

from synth.dataset import STATE
from synth.errors import EXIT_CAPPED, UserError  # noqa: F401 - EXIT_CAPPED re-exported

REFRESH_S = 0.25     # how stale another task's spend may be
PUBLISH_S = 0.25     # how often a task rewrites its own ledger file (and always when it stops)
NEAR = 1.25          # "near the cap": spend + reservations + this request, times NEAR, reaches it
CHARS_PER_TOKEN = 4  # OpenAI's rule of thumb for English text; code, JSON and CJK run denser


@dataclass(frozen=True)
class Price:
    """USD per million tokens, input (prompt) and output (completion)."""

    input: float
    output: float

    def cost(self, prompt_tokens: float, completion_tokens: float) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1e6

    def __str__(self) -> str:
        return f"{self.input:g}:{self.output:g}"


def parse_price(value: str | None) -> Price | None:
    """`--price IN:OUT` (USD per million input:output tokens), or one number for both."""
    if value in (None, ""):
        return None
    parts = str(value).split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (1, 2) or any(not math.isfinite(n) or n < 0 for n in numbers):
        raise UserError(f"--price must be IN:OUT in USD per million tokens (e.g. 0.5:1.5), got {value!r}")
    return Price(numbers[0], numbers[-1])


@dataclass(frozen=True)
class Spend:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens,
                     self.requests + other.requests)

    def __sub__(self, other: Spend) -> Spend:
        return Spend(self.prompt_tokens - other.prompt_tokens, self.completion_tokens - other.completion_tokens,
                     self.requests - other.requests)

    def to_json(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "requests": self.requests}

    @classmethod
    def from_json(cls, data: dict | None) -> Spend:
        data = data if isinstance(data, dict) else {}
        return cls(*(int(data.get(k) or 0) for k in ("prompt_tokens", "completion_tokens", "requests")))


@dataclass(frozen=True)
class Budget:
    """The caps of a run (pickled to every task). No cap: the ledger still counts, nothing is gated."""

    max_tokens_total: int | None = None
    max_cost: float | None = None
    price: Price | None = None
    projection_only: bool = False  # --dry-run without --pilot: no call at all, so no endpoint is checked either

    def __post_init__(self):
        if self.max_cost is not None and self.price is None:
            raise UserError("--max-cost needs --price IN:OUT (USD per million input:output tokens)")

    @property
    def capped(self) -> bool:
        return self.max_tokens_total is not None or self.max_cost is not None

    def cost(self, spend: Spend) -> float | None:
        return None if self.price is None else self.price.cost(spend.prompt_tokens, spend.completion_tokens)

    def reached(self, spend: Spend, factor: float = 1.0) -> bool:
        """Has `spend` (scaled by `factor`: > 1 asks "are we near?") reached a cap?"""
        if self.max_tokens_total is not None and spend.tokens * factor >= self.max_tokens_total:
            return True
        return self.max_cost is not None and self.cost(spend) * factor >= self.max_cost

    def describe(self, spend: Spend) -> str:
        """One line: what was spent against which cap."""
        parts = []
        if self.max_tokens_total is not None:
            parts.append(f"{spend.tokens:,} of --max-tokens-total {self.max_tokens_total:,} tokens")
        if self.max_cost is not None:
            parts.append(f"${self.cost(spend):.4f} of --max-cost ${self.max_cost:g}")
        return "; ".join(parts) or f"{spend.tokens:,} tokens"

    def summary(self, spend: Spend) -> dict:
        """JSON-safe spend + caps for a command's summary."""
        out = {"spent_tokens": spend.tokens, **spend.to_json()}
        if self.price is not None:
            out["spent_cost_usd"] = round(self.cost(spend), 6)
            out["price"] = str(self.price)
        if self.max_tokens_total is not None:
            out["max_tokens_total"] = self.max_tokens_total
        if self.max_cost is not None:
            out["max_cost_usd"] = self.max_cost
        return out


def budget_dir(out: Path) -> Path:
    return Path(out) / STATE / "budget"


def read_spend(path: Path) -> Spend:
    import json

    try:
        return Spend.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return Spend()  # absent, or being replaced right now: the next read sees it


def total_spend(out: Path) -> Spend:
    """Everything every task of this --out has spent so far (read by the driver)."""
    folder = budget_dir(out)
    spend = Spend()
    for path in sorted(folder.glob("[0-9]*.json")) if folder.is_dir() else []:
        spend = spend + read_spend(path)
    return spend


class Ledger:
    """One task's running total, published for the other tasks; sees theirs. Lives in the worker."""

    def __init__(self, out: Path, rank: int):
        self.folder = budget_dir(out)
        self.path = self.folder / f"{rank:05d}.json"
        self.own = read_spend(self.path)          # cumulative from earlier runs of this --out
        self._others, self._others_at = Spend(), -math.inf
        self._published_at = -math.inf

    def add(self, spend: Spend, now: bool = False) -> None:
        """Count `spend`; published at once when `now` (near the cap), else at most every PUBLISH_S."""
        self.own = self.own + spend
        if now or time.monotonic() - self._published_at >= PUBLISH_S:
            self.flush()

    def total(self, fresh: bool = False) -> Spend:
        """Own spend + the others' (re-read when `fresh`, near the cap, else at most every REFRESH_S)."""
        now = time.monotonic()
        if fresh or now - self._others_at >= REFRESH_S:
            self._others_at = now
            others = Spend()
            for path in self.folder.glob("[0-9]*.json") if self.folder.is_dir() else []:
                if path != self.path:
                    others = others + read_spend(path)
            self._others = others
        return self.own + self._others

    def flush(self) -> None:
        import json

        self._published_at = time.monotonic()
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{self.path.name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(self.own.to_json()), encoding="utf-8")
        os.replace(tmp, self.path)


def spend_of(usage: dict | None, text: str | None, prompt_estimate: int) -> Spend:
    """What one answered request cost; a server that reports no usage is charged estimates (never zero)."""
    usage = usage or {}
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if completion is None:
        completion = math.ceil(len(text or "") / CHARS_PER_TOKEN)
    return Spend(int(prompt if prompt is not None else prompt_estimate), max(0, int(completion)), 1)


def estimate_prompt_tokens(messages: list | None, tools: list | None = None) -> int:
    """≈ CHARS_PER_TOKEN characters per token, + 4 per message and 3 to prime the reply (OpenAI's rule of
    thumb). Used where no tokenizer is at hand: openai endpoints, and gate reservations in workers."""
    import json

    chars, count = 0, 0
    for message in messages or []:
        count += 1
        if isinstance(message, dict):
            chars += len(_text(message.get("content")))
            if message.get("tool_calls"):
                chars += len(json.dumps(message["tool_calls"], ensure_ascii=False))
    if tools:
        chars += len(json.dumps(tools, ensure_ascii=False))
    return math.ceil(chars / CHARS_PER_TOKEN) + 4 * count + 3


def _text(content) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") if isinstance(p, dict) else str(p) for p in content)
    return content if isinstance(content, str) else ""
