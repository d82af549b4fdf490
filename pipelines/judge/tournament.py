"""Best-of-n by knockout: n - 1 swapped comparisons instead of n(n - 1) for a round robin.

The bracket is the candidates shuffled by a generator seeded from (run seed, prompt id): the same inputs and
seed give the same bracket, hence the same matches and the same winner. When n is not a power of two the
first `2^ceil(log2 n) - n` candidates of the bracket get a bye in round 1, so every later round is full
(n = 5: 3 byes, 1 match, then 2 semi-finals and a final). Matches of a round are judged concurrently.

A match that is not decisive (a tie, position-inconsistent verdicts, a failed judge) still has to send
someone on: the candidate with the higher point-wise score when both have one and they differ, else a
seeded coin. `decided_by` records which (judge | pointwise | coin).

Placement (the pair-wise ordering the reliability figures use): a candidate eliminated in round r has
placement r; the champion has placement rounds + 1. Higher is better; candidates out in the same round tie.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from synth.pipelines.judge.verdicts import WIN, Outcome

Play = Callable[[str, str, int], Awaitable[Outcome]]


@dataclass
class Match:
    round: int
    x: str
    y: str
    outcome: Outcome
    advanced: str
    decided_by: str  # judge | pointwise | coin

    @property
    def eliminated(self) -> str:
        return self.y if self.advanced == self.x else self.x


@dataclass
class Tournament:
    bracket: list[str]
    matches: list[Match] = field(default_factory=list)
    winner: str | None = None
    rounds: int = 0

    def placements(self) -> dict[str, int]:
        return placements_of([(m.round, m.x, m.y, m.advanced) for m in self.matches], self.bracket)


def placements_of(matches: list[tuple[int, str, str, str]], entrants: list[str] | None = None) -> dict[str, int]:
    """{candidate: placement} from (round, x, y, advanced) of every match of one knockout."""
    if not matches:
        return {c: 1 for c in entrants or []}
    rounds = max(r for r, *_ in matches)
    places: dict[str, int] = {}
    for rnd, x, y, advanced in matches:
        places[y if advanced == x else x] = rnd
        if rnd == rounds:
            places[advanced] = rounds + 1
    return places


def bracket(ids: list[str], seed: str) -> list[str]:
    order = list(ids)
    random.Random(seed).shuffle(order)  # str seeds hash with sha512: stable across runs and PYTHONHASHSEED
    return order


def tiebreak(x: str, y: str, rnd: int, seed: str, scores: dict[str, float | None]) -> tuple[str, str]:
    sx, sy = scores.get(x), scores.get(y)
    if sx is not None and sy is not None and sx != sy:
        return (x if sx > sy else y), "pointwise"
    return random.Random(f"{seed}:{rnd}:{x}:{y}").choice((x, y)), "coin"


def decide(x: str, y: str, outcome: Outcome, rnd: int, seed: str, scores: dict) -> tuple[str, str]:
    if outcome.status == WIN:
        return (x if outcome.winner == "x" else y), "judge"
    return tiebreak(x, y, rnd, seed, scores)


async def knockout(ids: list[str], seed: str, play: Play, scores: dict[str, float | None] | None = None) -> Tournament:
    """Run the knockout; `play(x, y, round)` judges one match (both orders) and returns its Outcome."""
    scores = scores or {}
    order = bracket(ids, seed)
    result = Tournament(order)
    if not order:
        return result
    byes = (1 << (len(order) - 1).bit_length()) - len(order)
    alive, rnd = order, 0
    while len(alive) > 1:
        rnd += 1
        free = alive[:byes] if rnd == 1 else []
        playing = alive[len(free):]
        pairs = list(zip(playing[0::2], playing[1::2]))
        outcomes = await asyncio.gather(*(play(x, y, rnd) for x, y in pairs))
        alive = list(free)
        for (x, y), out in zip(pairs, outcomes):
            advanced, how = decide(x, y, out, rnd, seed, scores)
            result.matches.append(Match(rnd, x, y, out, advanced, how))
            alive.append(advanced)
    result.winner, result.rounds = alive[0], rnd
    return result
