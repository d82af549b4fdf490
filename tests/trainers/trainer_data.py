"""Test data for the trainer: a tiny BPE tokenizer with a ChatML template, trajectories, preference pairs.

Nothing is downloaded: the tokenizer is trained here on a few KB of generated text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "</tool_call>"]
WORDS = ["search", "visit", "python", "answer", "question", "entity", "page", "result", "the", "a", "of", "to", "in", "is", "was", "by", "for", "paris", "london", "river", "mountain", "born", "city", "capital", "year", "author", "book", "film", "first", "second", "third", "found", "tool", "call", "json"]


def _corpus(rng: random.Random, n: int = 400) -> list[str]:
    lines = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 14))]
        lines.append(" ".join(words) + rng.choice([".", "?", "!", " 1984", " 42", ' {"q": "x"}']))
    return lines


def build_tokenizer(out: Path, template: str = "chatml.jinja"):
    """The trainer's own tokenizer builder (trainers/tokenizer.py) on generated words, with a test template."""
    from synth.trainers.tokenizer import train_bpe

    return train_bpe(_corpus(random.Random(0)), out, vocab_size=480, specials=SPECIALS,
                     chat_template=(HERE / template).read_text(encoding="utf-8"))


TOOLS = [{"type": "function", "function": {"name": "search", "description": "web search",
                                           "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]


def trajectory(rng: random.Random, idx: int, turns: int | None = None) -> dict:
    """A deep-search-like trajectory: user question, assistant tool calls, tool results, final answer."""
    def text(lo: int, hi: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))

    messages = [{"role": "system", "content": "you are a search agent", "loss": 0},
                {"role": "user", "content": text(4, 12) + "?", "loss": 0}]
    for t in range(turns if turns is not None else rng.randint(1, 4)):
        call = {"id": f"c{t}", "type": "function",
                "function": {"name": "search", "arguments": json.dumps({"q": text(1, 3)})}}
        messages.append({"role": "assistant", "content": text(0, 6), "reasoning_content": text(2, 8),
                         "tool_calls": [call], "loss": rng.choice([0, 1]), "weight": rng.choice([0.5, 1.0])})
        messages.append({"role": "tool", "tool_call_id": f"c{t}", "name": "search", "content": text(5, 20), "loss": 0})
    messages.append({"role": "assistant", "content": "answer " + text(1, 4), "loss": 1, "weight": 1.0})
    return {"id": f"traj-{idx}", "messages": messages, "tools": TOOLS}


def trajectories(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [trajectory(rng, i) for i in range(n)]


def preference_pairs(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        q = " ".join(rng.choice(WORDS) for _ in range(6)) + "?"
        good = "answer " + " ".join(rng.choice(WORDS[:10]) for _ in range(rng.randint(2, 6)))
        bad = "answer " + " ".join(rng.choice(WORDS[10:]) for _ in range(rng.randint(2, 6)))
        pairs.append({"id": f"pair-{i}", "prompt": [{"role": "user", "content": q}],
                      "chosen": [{"role": "assistant", "content": good}],
                      "rejected": [{"role": "assistant", "content": bad}], "margin": 1.0})
    return pairs


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path
