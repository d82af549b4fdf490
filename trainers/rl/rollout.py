"""What a rollout is, token by token, and the single-turn rollout shared by the code and prompts tasks.

A rollout keeps the exact token ids the policy sampled (never a re-tokenization of their text), inside
the sequences the policy conditioned on: a single-turn rollout is one sequence (prompt + completion);
an agent rollout is one sequence per context the policy saw (turns appended token-in-token-out while the
chat template extends the previous context, a new sequence when it does not). `Segment`s mark the sampled
spans: only their tokens are ever trained; prompt, tool-result and template tokens never are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from synth.trainers.rl.engines import Request


@dataclass
class Prompt:
    id: str
    messages: list[dict]
    record: dict
    ids: list[int] = field(default_factory=list)  # the rendered generation prompt (single-turn tasks)
    tools: list | None = None


@dataclass
class Segment:
    start: int       # first sampled token (index into Sequence.ids)
    end: int         # one past the last
    turn: int        # policy turn number within the rollout
    finish: str      # stop | length


@dataclass
class Sequence:
    ids: list[int]
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Rollout:
    prompt_id: str
    sample: int
    sequences: list[Sequence]
    text: str                          # the completion (single-turn) or the final answer (agent)
    reward: dict                       # {"total": float, components...}
    passed: bool
    truncated: bool = False
    valid: bool = True                 # False: no reward could be computed (sandbox failure): no loss
    turn_rewards: list[float] | None = None  # per policy turn (agent rollouts with a turn judge)
    messages: list[dict] | None = None       # the agent transcript
    info: dict = field(default_factory=dict)

    @property
    def generated(self) -> int:
        return sum(s.end - s.start for q in self.sequences for s in q.segments)


def derive_seed(*parts: Any) -> int:
    """A 31-bit seed from any parts (stable across runs and machines)."""
    import hashlib

    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


Scorer = Callable[[list[tuple[Prompt, str]]], list[dict | None]]


def single_turn(engine, prompts: list[Prompt], k: int, namespace: tuple, max_tokens: int, tokenizer,
                score: Scorer, passed: Callable[[dict], bool]) -> list[list[Rollout]]:
    """k sampled completions per prompt, scored in one batch -> groups of rollouts (prompt order)."""
    requests = [Request(p.ids, derive_seed(*namespace, p.id, j), max_tokens) for p in prompts for j in range(k)]
    gens = engine.generate(requests)
    texts = [tokenizer.decode(g.ids, skip_special_tokens=True) for g in gens]
    pairs = [(p, texts[i * k + j]) for i, p in enumerate(prompts) for j in range(k)]
    scores = score(pairs)
    groups = []
    for i, p in enumerate(prompts):
        group = []
        for j in range(k):
            n = i * k + j
            g, s = gens[n], scores[n]
            seq = Sequence(list(p.ids) + list(g.ids), [Segment(len(p.ids), len(p.ids) + len(g.ids), 0, g.finish)])
            group.append(Rollout(p.id, j, [seq], texts[n], s or {"total": 0.0}, bool(s) and passed(s),
                                 truncated=g.finish == "length", valid=s is not None))
        groups.append(group)
    return groups
