"""The prompt pool: which prompts each step rolls out, and the pass-rate filter (`--keep-pass LO:HI/N`).

The filter samples N rollouts per prompt from the *current* policy and keeps the prompts it solves LO..HI
times (the paper keeps 1..5 of 8: neither solved every time, which teaches nothing, nor never, which gives
no signal). It runs before the first step and, with `--refilter-every K`, again every K steps with the
policy of that step, always over the whole input pool (a prompt dropped as too hard may come back).

Each filter result is written to OUT/.synth/rl_pool/step_NNNNNNNN.json; the batch of a step is a pure
function of (seed, the pool in force, step), so a resumed run picks the same prompts: it reloads the
newest pool file at or before its step (and re-reads, rather than recomputes, any later refilter it reaches).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from synth.trainers.rl.options import KeepPass
from synth.trainers.rl.rollout import Prompt


class Pool:
    def __init__(self, prompts: list[Prompt], seed: int, per_step: int, folder: Path):
        self.all = prompts
        self.by_id = {p.id: p for p in prompts}
        self.seed, self.per_step, self.folder = seed, per_step, Path(folder)
        self.since = 0
        self.active: list[Prompt] = list(prompts)
        self.passes: dict[str, int] = {}
        self.keep: KeepPass | None = None

    def batch(self, step: int) -> list[Prompt]:
        """`per_step` prompts: consecutive slices of per-epoch permutations of the active pool."""
        n = len(self.active)
        offset = (step - self.since) * self.per_step
        out = []
        for pos in range(offset, offset + self.per_step):
            epoch, index = divmod(pos, n)
            order = np.random.default_rng([self.seed, self.since, epoch]).permutation(n)
            out.append(self.active[int(order[index])])
        return out

    def path(self, step: int) -> Path:
        return self.folder / f"step_{step:08d}.json"

    def load(self, step: int) -> bool:
        """Adopt the pool written at `step`, if any."""
        path = self.path(step)
        if not path.is_file():
            return False
        state = json.loads(path.read_text(encoding="utf-8"))
        self.since, self.active = state["step"], [self.by_id[i] for i in state["active"] if i in self.by_id]
        self.passes, self.keep = state["passes"], KeepPass(*state["keep"])
        return True

    def restore(self, step: int) -> None:
        """On resume: the newest pool written at or before `step`."""
        found = sorted(int(p.stem.split("_")[1]) for p in self.folder.glob("step_*.json"))
        usable = [s for s in found if s <= step]
        if usable:
            self.load(usable[-1])

    def rejects(self) -> list[dict]:
        """The prompts the filter in force leaves out, as reject records (too_easy / too_hard)."""
        keep = self.keep
        if keep is None:
            return []
        return [{"id": p.id, "reason": keep.reason(self.passes[p.id]), "step": "train.keep_pass",
                 "detail": f"solved {self.passes[p.id]}/{keep.n} by the policy at step {self.since} "
                           f"(keep {keep.lo}..{keep.hi})"} for p in self.all if not keep.keeps(self.passes[p.id])]

    def adopt(self, step: int, passes: dict[str, int], keep: KeepPass) -> None:
        """Apply a filter result and persist it."""
        kept = [p for p in self.all if keep.keeps(passes[p.id])]
        self.folder.mkdir(parents=True, exist_ok=True)
        state = {"step": step, "keep": [keep.lo, keep.hi, keep.n], "active": [p.id for p in kept], "passes": passes}
        tmp = self.path(step).with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.replace(self.path(step))
        self.since, self.active, self.passes, self.keep = step, kept, passes, keep


def filter_passes(task, engine, prompts: list[Prompt], keep: KeepPass, seed: int, step: int,
                  chunk: int = 64) -> dict[str, int]:
    """Rollouts that pass, out of keep.n, for every prompt (the current policy, its own seed namespace)."""
    passes: dict[str, int] = {}
    for lo in range(0, len(prompts), chunk):
        part = prompts[lo: lo + chunk]
        groups = task.rollouts(engine, part, keep.n, ("keep_pass", seed, step))
        for prompt, group in zip(part, groups):
            passes[prompt.id] = sum(1 for r in group if r.passed)
    return passes
