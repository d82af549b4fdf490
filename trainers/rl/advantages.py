"""Rewards -> advantages -> training items (token ids, loss mask, per-token advantage).

Group-relative advantage (GRPO): A_i = (R_i - mean(R_group)) / (std(R_group) + eps), or without the std
division (`--scale-rewards false`, Dr. GRPO). Rollouts without a reward (sandbox failure) are left out of
the group statistics and carry no loss.

Turn-level credit (agent rollouts): each policy turn t of rollout i has a turn reward r_it from the turn
judge (1 when the judge keeps the turn: essential / recovery / correct answer; 0 when it is redundant,
unnecessary, an error or a wrong answer). Turn rewards are normalised over all turns of the group the
same way, and turn t's tokens get A_it = (1 - c) * A_i + c * A_turn_it, c = `--turn-credit`.

Loss mask: only sampled tokens (the rollout's Segments) carry loss; a truncated completion carries none
when `--mask-truncated` (overlong filtering: a cut-off answer is not evidence of a bad one). Items whose
every trained token has advantage 0 (a group where every rollout got the same reward) are dropped: they
add nothing to the policy gradient (and are not counted in the token normalizer, as in DAPO).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from synth.trainers.render import Sample
from synth.trainers.rl.rollout import Rollout

EPS = 1e-6


@dataclass
class Item:
    """One training sequence: `sample.weights` is the loss mask (1 on positions predicting sampled tokens),
    `adv[t]` the advantage of the token at t + 1; `old`/`ref` the behaviour / reference log-probs of the
    masked positions (filled in by the loop when needed)."""

    sample: Sample
    adv: np.ndarray
    group: int
    old: np.ndarray | None = None
    ref: np.ndarray | None = None

    @property
    def trained(self) -> int:
        return int((self.sample.weights > 0).sum())


def normalise(values: list[float], scale: bool) -> list[float]:
    if not values:
        return []
    arr = np.asarray(values, dtype=np.float64)
    centred = arr - arr.mean()
    if scale:
        centred = centred / (arr.std() + EPS)
    return centred.tolist()


def group_advantages(group: list[Rollout], scale: bool) -> list[float]:
    valid = [r for r in group if r.valid]
    adv = iter(normalise([float(r.reward["total"]) for r in valid], scale))
    return [next(adv) if r.valid else 0.0 for r in group]


def turn_advantages(group: list[Rollout], scale: bool) -> list[list[float]]:
    """Per rollout, per policy turn: the normalised turn reward over every turn of the group."""
    flat = [t for r in group if r.valid for t in (r.turn_rewards or [])]
    norm = iter(normalise(flat, scale))
    return [[next(norm) for _ in (r.turn_rewards or [])] if r.valid else [] for r in group]


def build_items(groups: list[list[Rollout]], scale: bool, turn_credit: float, mask_truncated: bool,
                keep_zero: bool = False) -> tuple[list[Item], list[list[float]]]:
    """Training items of a step and each rollout's trajectory advantage (for logs)."""
    items: list[Item] = []
    traj_adv: list[list[float]] = []
    for g, group in enumerate(groups):
        adv = group_advantages(group, scale)
        turns = turn_advantages(group, scale) if any(r.turn_rewards for r in group) else None
        traj_adv.append(adv)
        for i, rollout in enumerate(group):
            if not rollout.valid or (mask_truncated and rollout.truncated):
                continue
            per_turn = turns[i] if turns else []
            for seq in rollout.sequences:
                item = _item(seq, adv[i], per_turn, turn_credit, g)
                if item.trained and (keep_zero or np.any(item.adv[item.sample.weights > 0] != 0)):
                    items.append(item)
    return items, traj_adv


def _item(seq, traj: float, per_turn: list[float], credit: float, group: int) -> Item:
    n = len(seq.ids)
    mask = np.zeros(n, dtype=np.float32)
    adv = np.zeros(n, dtype=np.float32)
    for s in seq.segments:
        value = traj if not per_turn else (1 - credit) * traj + credit * per_turn[s.turn]
        lo, hi = max(s.start - 1, 0), s.end - 1  # position t predicts token t + 1
        mask[lo:hi] = 1.0
        adv[lo:hi] = value
    mask[-1] = 0.0
    return Item(Sample(np.asarray(seq.ids, dtype=np.int32), mask), adv, group)
