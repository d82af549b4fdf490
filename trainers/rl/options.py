"""Checks of the grpo options (fields of TrainConfig) and the `--keep-pass LO:HI/N` spec.

Imported by config.validate for `--mode grpo` only, before anything heavy: a bad combination is one line
and exit code 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from synth.errors import UserError

TASKS = ("auto", "code", "search", "prompts")
STAGES = ("correctness", "complexity")
ENGINES = ("auto", "vllm", "hf")
TOOL_FORMATS = ("hermes", "mcp_xml", "openai")
_KEEP = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class KeepPass:
    """Keep a prompt when lo <= (rollouts that pass, out of n) <= hi."""

    lo: int
    hi: int
    n: int

    def keeps(self, passed: int) -> bool:
        return self.lo <= passed <= self.hi

    def reason(self, passed: int) -> str | None:
        """The reject reason of a prompt outside the band (stable snake_case), or None when kept."""
        if passed < self.lo:
            return "too_hard"
        if passed > self.hi:
            return "too_easy"
        return None


def parse_keep_pass(spec: str) -> KeepPass:
    m = _KEEP.match(spec or "")
    if not m:
        raise UserError(f"--keep-pass must look like LO:HI/N (e.g. 1:5/8), got {spec!r}")
    lo, hi, n = (int(g) for g in m.groups())
    if not (0 <= lo <= hi <= n and n >= 1):
        raise UserError(f"--keep-pass {spec!r}: need 0 <= LO <= HI <= N and N >= 1")
    return KeepPass(lo, hi, n)


def validate_rl(cfg) -> None:
    checks = [
        (cfg.task in TASKS, f"--task must be one of {', '.join(TASKS)}, got {cfg.task!r}"),
        (cfg.stage in STAGES, f"--stage must be one of {', '.join(STAGES)}, got {cfg.stage!r}"),
        (cfg.rollout_engine in ENGINES, f"--rollout-engine must be one of {', '.join(ENGINES)}"),
        (cfg.tool_format in TOOL_FORMATS, f"--tool-format must be one of {', '.join(TOOL_FORMATS)}"),
        (cfg.group_size >= 2, "--group-size must be >= 2 (advantages are relative to the group)"),
        (cfg.prompts_per_step >= 1, "--prompts-per-step must be >= 1"),
        (cfg.max_new_tokens >= 1, "--max-new-tokens must be >= 1"),
        (cfg.max_new_tokens < cfg.seq_len, "--max-new-tokens must be < --seq-len (prompt + completion fit a row)"),
        (cfg.temperature > 0, "--temperature must be > 0 (rollouts are sampled)"),
        (0 < cfg.top_p <= 1, "--top-p must be in (0, 1]"),
        (cfg.clip_eps > 0 and cfg.clip_eps_high > 0, "--clip-eps and --clip-eps-high must be > 0"),
        (cfg.kl_beta >= 0, "--kl-beta must be >= 0"),
        (cfg.grpo_updates >= 1, "--grpo-updates must be >= 1"),
        (cfg.grpo_updates <= cfg.prompts_per_step, "--grpo-updates must be <= --prompts-per-step (one group at least per update)"),
        (0.0 <= cfg.turn_credit <= 1.0, "--turn-credit must be in [0, 1]"),
        (cfg.max_turns >= 1, "--max-turns must be >= 1"),
        (0 < cfg.rollout_memory < 1, "--rollout-memory must be in (0, 1)"),
        (cfg.refilter_every is None or cfg.refilter_every >= 1, "--refilter-every must be >= 1"),
        (cfg.refilter_every is None or cfg.keep_pass, "--refilter-every needs --keep-pass"),
        (not cfg.constrain_calls or cfg.rollout_engine != "hf", "--constrain-calls needs --rollout-engine vllm"),
        (cfg.task != "prompts" or cfg.reward, "--task prompts needs --reward module:function"),
        (cfg.reward is None or ":" in cfg.reward, "--reward must be module:function"),
    ]
    for ok, message in checks:
        if not ok:
            raise UserError(message)
    if cfg.keep_pass:
        parse_keep_pass(cfg.keep_pass)
