"""RL tasks: which records a grpo run reads, how a prompt is shown to the policy, how a rollout is rewarded.

    code     code_problem records (`synth generate code`); the reward is the code pipeline's gated reward,
             R = R_format + R_correct (+ R_time iff every test passes), run in the sandbox.
             --stage correctness: the time term is never computed (the problem's measured class is withheld
             from the scorer), i.e. R = R_format + R_correct, the paper's first stage; --stage complexity
             adds the gated time reward (the second stage). A rollout *passes* when every test passes.
    prompts  any records with a `prompt` (a string or chat messages) and a user reward
             `--reward module:function(record, completion_text) -> float | {"total", "passed"?, ...}`;
             passes when `passed` says so, else when total > 0.
    search   rl_task records (`synth export trajectories --to rl`): agent rollouts in the deep-search
             environment through the trajectory harness (trainers/rl/agent.py).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.trainers.render import ChatRenderer, RenderError
from synth.trainers.rl.rollout import Prompt, Rollout, single_turn

from synth.errors import InputError, UserError

KINDS = {"code": "code_problem", "search": "rl_task", "prompts": None}
FUNCTION_ASK = ("Write a Python function `{entry}` that solves the problem. Answer with the complete solution "
                "in one ```python code block.")
STDIO_ASK = ("Write a complete Python program that reads the input from stdin and prints the answer to stdout. "
             "Answer with the program in one ```python code block.")


@dataclass
class Loaded:
    task: Any
    prompts: list[Prompt] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    records: int = 0
    kind: str | None = None


def detect(cfg) -> str:
    """--task auto: from the datasets' manifests, else from the first record's fields."""
    if cfg.task != "auto":
        return cfg.task
    from synth.dataset import dataset_kind, iter_rows

    kinds = {dataset_kind(Path(p)) for p in cfg.data}
    by_kind = {v: k for k, v in KINDS.items() if v}
    if len(kinds) == 1 and (kind := kinds.pop()) in by_kind:
        return by_kind[kind]
    first = next(iter_rows(cfg.data), None)
    record = first.record if first else {}
    if "tests" in record and "reference_solution" in record:
        return "code"
    if "question" in record and "environment" in record:
        return "search"
    if "prompt" in record and cfg.reward:
        return "prompts"
    raise UserError("--task auto: cannot tell what the --data records are; pass --task code|search|prompts")


def code_messages(problem: dict) -> list[dict]:
    ask = FUNCTION_ASK.format(entry=problem.get("entry_point")) if problem["style"] == "function" else STDIO_ASK
    return [{"role": "user", "content": f"{problem['prompt'].rstrip()}\n\n{ask}"}]


def prompt_messages(record: dict, where: tuple[str, int]) -> list[dict]:
    value = record.get("prompt")
    if isinstance(value, str) and value.strip():
        return [{"role": "user", "content": value}]
    if isinstance(value, list) and value and all(isinstance(m, dict) and "role" in m for m in value):
        return value
    raise InputError(*where, "must be a non-empty string or a list of chat messages", field="prompt")


def load(cfg, renderer: ChatRenderer, tokenizer) -> Loaded:
    from synth.dataset import iter_rows

    name = detect(cfg)
    loaded = Loaded(task=None, kind=KINDS[name])
    for row in iter_rows(cfg.data, KINDS[name]):
        loaded.records += 1
        rec = row.record
        rid = str(rec.get("id") or f"{Path(row.path).name}:{row.row}")
        messages = (code_messages(rec) if name == "code" else rec["prompt"] if name == "search"
                    else prompt_messages(rec, (row.path, row.row)))
        prompt = Prompt(rid, messages, rec, tools=rec.get("tools") if name == "prompts" else None)
        if name != "search":
            reason = _render(prompt, renderer, tokenizer, cfg.seq_len - cfg.max_new_tokens)
            if reason:
                loaded.rejects.append({"id": rid, "reason": reason[0], "detail": f"{row.path}:{row.row}: {reason[1]}",
                                       "step": "train.prompt"})
                continue
        loaded.prompts.append(prompt)
    loaded.task = make_task(name, cfg, tokenizer)
    return loaded


def _render(prompt: Prompt, renderer: ChatRenderer, tokenizer, budget: int) -> tuple[str, str] | None:
    try:
        text = renderer.render(prompt.messages, prompt.tools, generation_prompt=True)
    except RenderError as err:
        return err.reason, err.detail
    prompt.ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(prompt.ids) > budget:
        return "prompt_too_long", f"{len(prompt.ids)} tokens > --seq-len - --max-new-tokens = {budget}"
    return None


def make_task(name: str, cfg, tokenizer):
    if name == "code":
        return CodeTask(cfg, tokenizer)
    if name == "prompts":
        return PromptsTask(cfg, tokenizer)
    from synth.trainers.rl.agent import SearchTask

    return SearchTask(cfg, tokenizer)


class CodeTask:
    """The gated code reward; one sandbox (bubblewrap when present) scores a whole batch in parallel."""

    def __init__(self, cfg, tokenizer):
        from synth.sandbox import Sandbox

        self.cfg, self.tokenizer, self.stage = cfg, tokenizer, cfg.stage
        self.box = Sandbox(workers=max(2, cfg.workers))

    def problem(self, record: dict) -> dict:
        if self.stage == "correctness":
            return {k: v for k, v in record.items() if k != "complexity"}  # no bound: the time term is never run
        return record

    def score(self, pairs: list[tuple[Prompt, str]]) -> list[dict | None]:
        from synth.pipelines.code.reward import reward

        def one(pair: tuple[Prompt, str]) -> dict | None:
            try:
                r = reward(self.problem(pair[0].record), pair[1], sandbox=self.box)
            except RuntimeError:  # the sandbox itself failed: no verdict, no loss for this rollout
                return None
            d = r["details"]
            return {"total": r["total"], "format": r["format"], "correctness": r["correctness"], "time": r["time"],
                    "all_pass": float(d["tests"] > 0 and d["passed"] == d["tests"])}

        return self.box.map(one, pairs)

    def rollouts(self, engine, prompts: list[Prompt], k: int, namespace: tuple) -> list[list[Rollout]]:
        return single_turn(engine, prompts, k, namespace, self.cfg.max_new_tokens, self.tokenizer, self.score,
                           passed=lambda s: s["all_pass"] == 1.0)

    def close(self) -> None:
        pass


class PromptsTask:
    def __init__(self, cfg, tokenizer):
        self.cfg, self.tokenizer = cfg, tokenizer
        self.fn = load_reward(cfg.reward)

    def score(self, pairs: list[tuple[Prompt, str]]) -> list[dict | None]:
        out = []
        for prompt, text in pairs:
            value = self.fn(prompt.record, text)
            result = dict(value) if isinstance(value, dict) else {"total": float(value)}
            if "total" not in result:
                raise UserError(f"--reward {self.cfg.reward}: a dict result needs a 'total' key")
            out.append(result)
        return out

    def rollouts(self, engine, prompts: list[Prompt], k: int, namespace: tuple) -> list[list[Rollout]]:
        return single_turn(engine, prompts, k, namespace, self.cfg.max_new_tokens, self.tokenizer, self.score,
                           passed=lambda s: bool(s["passed"]) if "passed" in s else float(s["total"]) > 0)

    def close(self) -> None:
        pass


def load_reward(spec: str):
    module, _, name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise UserError(f"--reward {spec}: cannot import ({type(exc).__name__}: {exc})") from None
    if not callable(fn):
        raise UserError(f"--reward {spec}: not callable")
    return fn


def dump(rollout: Rollout, step: int, advantage: float) -> str:
    """One line of OUT/rollouts/step_N.jsonl."""
    rec = {"step": step, "prompt_id": rollout.prompt_id, "sample": rollout.sample, "completion": rollout.text,
           "reward": rollout.reward, "passed": rollout.passed, "advantage": round(advantage, 6),
           "tokens": rollout.generated, "truncated": rollout.truncated, "valid": rollout.valid}
    if rollout.messages is not None:
        rec["messages"] = rollout.messages
        rec["turn_rewards"] = rollout.turn_rewards
    return json.dumps(rec, ensure_ascii=False, default=str)
