"""GRPO building blocks without a model: --keep-pass, advantages, turn credit, loss masks, the prompt pool."""

from __future__ import annotations

import json

import numpy as np
import pytest
from synth.trainers.config import from_dict
from synth.trainers.rl import advantages
from synth.trainers.rl.options import parse_keep_pass
from synth.trainers.rl.rollout import Prompt, Rollout, Segment, Sequence
from synth.trainers.rl.selection import Pool
from synth.trainers.rl.train import minibatches

from synth.errors import UserError


def rollout(reward: float, segments=((5, 8, 0),), length: int = 10, valid: bool = True, truncated: bool = False,
            turns: list[float] | None = None, pid: str = "p") -> Rollout:
    seq = Sequence(list(range(100, 100 + length)), [Segment(a, b, t, "stop") for a, b, t in segments])
    return Rollout(pid, 0, [seq], "", {"total": reward}, reward > 0, truncated=truncated, valid=valid,
                   turn_rewards=turns)


def test_keep_pass_spec():
    keep = parse_keep_pass("1:5/8")
    assert (keep.lo, keep.hi, keep.n) == (1, 5, 8)
    assert [keep.reason(p) for p in (0, 1, 5, 6)] == ["too_hard", None, None, "too_easy"]
    for bad in ("1-5/8", "6:5/8", "1:9/8", "", "a:b/c"):
        with pytest.raises(UserError):
            parse_keep_pass(bad)


def test_grpo_config_checks_are_one_line_user_errors():
    base = {"data": ["x"], "out": "o", "model": "m", "mode": "grpo"}
    assert from_dict({**base, "keep_pass": "2:6/8"}).keep_pass == "2:6/8"
    for extra, words in (({"group_size": 1}, "--group-size"), ({"keep_pass": "9"}, "--keep-pass"),
                         ({"task": "prompts"}, "--reward"), ({"max_new_tokens": 9000}, "--max-new-tokens"),
                         ({"rollout_engine": "hf", "constrain_calls": True}, "--constrain-calls")):
        with pytest.raises(UserError, match=words):
            from_dict({**base, **extra})


def test_group_advantages_are_relative_and_skip_rollouts_without_reward():
    group = [rollout(1.0), rollout(0.0), rollout(0.0), rollout(1.0), rollout(0.0, valid=False)]
    adv = advantages.group_advantages(group, scale=True)
    assert np.allclose(adv, [1, -1, -1, 1, 0], atol=1e-5)
    adv = advantages.group_advantages([rollout(3.0), rollout(1.0)], scale=False)
    assert adv == [1.0, -1.0]


def test_items_train_only_sampled_tokens_and_drop_truncated_and_flat_groups():
    groups = [[rollout(1.0, segments=((4, 7, 0),)), rollout(0.0, truncated=True)],  # the truncated one is masked
              [rollout(1.0), rollout(1.0)]]                                         # no signal: dropped
    items, adv = advantages.build_items(groups, scale=False, turn_credit=0.0, mask_truncated=True)
    assert len(items) == 1 and adv[1] == [0.0, 0.0]
    item = items[0]
    # tokens 4..6 were sampled: positions 3..5 predict them
    assert np.flatnonzero(item.sample.weights).tolist() == [3, 4, 5]
    assert np.allclose(item.adv[3:6], 0.5) and item.adv[:3].sum() == 0 and item.trained == 3
    kept, _ = advantages.build_items(groups, scale=False, turn_credit=0.0, mask_truncated=False)
    assert len(kept) == 2 and kept[1].adv[5] == -0.5


def test_turn_credit_mixes_trajectory_and_turn_advantages():
    segs = ((3, 5, 0), (7, 9, 1))
    group = [rollout(1.0, segments=segs, turns=[1.0, 1.0]), rollout(0.0, segments=segs, turns=[1.0, 0.0])]
    items, _ = advantages.build_items([group], scale=False, turn_credit=0.25, mask_truncated=True)
    # trajectory: +0.5 / -0.5; turns over the group: mean 0.75 -> +0.25, +0.25 / +0.25, -0.75
    first, second = items
    assert np.allclose(first.adv[2:4], 0.75 * 0.5 + 0.25 * 0.25) and np.allclose(first.adv[6:8], 0.75 * 0.5 + 0.25 * 0.25)
    assert np.allclose(second.adv[2:4], -0.75 * 0.5 + 0.25 * 0.25)
    assert np.allclose(second.adv[6:8], -0.75 * 0.5 - 0.25 * 0.75)
    assert np.flatnonzero(first.sample.weights).tolist() == [2, 3, 6, 7]  # the gap (tool result) carries nothing


def test_minibatches_keep_groups_whole():
    items, _ = advantages.build_items([[rollout(1.0), rollout(0.0)] for _ in range(5)], False, 0.0, True)
    parts = minibatches(items, 2)
    assert len(parts) == 2 and sum(len(p) for p in parts) == len(items)
    assert not ({i.group for i in parts[0]} & {i.group for i in parts[1]})


def test_pool_batches_are_deterministic_epochs_and_the_filter_persists(tmp_path):
    prompts = [Prompt(f"p{i}", [], {}) for i in range(5)]
    pool = Pool(prompts, seed=3, per_step=2, folder=tmp_path)
    first_epoch = [p.id for s in range(2) for p in pool.batch(s)] + [pool.batch(2)[0].id]
    assert sorted(first_epoch) == [f"p{i}" for i in range(5)]
    assert [p.id for p in pool.batch(7)] == [p.id for p in Pool(prompts, 3, 2, tmp_path).batch(7)]
    pool.adopt(4, {"p0": 0, "p1": 3, "p2": 8, "p3": 5, "p4": 1}, parse_keep_pass("1:5/8"))
    assert [p.id for p in pool.active] == ["p1", "p3", "p4"]
    assert {r["id"]: r["reason"] for r in pool.rejects()} == {"p0": "too_hard", "p2": "too_easy"}
    again = Pool(prompts, 3, 2, tmp_path)
    again.restore(3)
    assert len(again.active) == 5  # the filter of step 4 is not in force at step 3
    again.restore(9)
    assert [p.id for p in again.active] == ["p1", "p3", "p4"] and again.batch(9) == pool.batch(9)
    assert json.loads((tmp_path / "step_00000004.json").read_text())["passes"]["p2"] == 8
