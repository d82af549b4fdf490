"""The gated complexity-aware reward: R = R_format + R_correct (+ R_time iff every test passes).

    reward(problem, completion) -> {"format", "correctness", "time", "total", "details"}

* format: 1 if the completion holds Python code that parses (function style: and defines the entry
  point at top level), else 0 and nothing is executed.
* correctness: pass rate over the problem's tests, run in the sandbox (or 0/1 with all_or_nothing).
* time: only when every test passes and the problem has a measured class: the completion is timed on the
  problem's generator and earns 1 if its measurements are explained by the reference's class (or a
  simpler one) within the fitter's tolerance, else 0. A failing completion never gets time reward.
* total: weighted sum.

`CodeReward` wraps this as a reward function with the signature TRL's GRPOTrainer calls:
`fn(prompts=..., completions=..., completion_ids=..., **dataset_columns) -> list[float]`.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from synth.pipelines.code.build import stdio_wrapper
from synth.pipelines.code.complexity import FitConfig, time_reward
from synth.pipelines.code.execute import run_tests
from synth.pipelines.code.measure import ProfileConfig, measure

from synth.sandbox import INFRA_ERROR, Sandbox

FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class RewardConfig:
    format_weight: float = 1.0
    correct_weight: float = 1.0
    time_weight: float = 1.0
    all_or_nothing: bool = False  # correctness 1 only when every test passes
    profile: ProfileConfig = field(default_factory=ProfileConfig)
    fit: FitConfig = field(default_factory=FitConfig)


def completion_text(completion: Any) -> str:
    """Plain text of a completion: a string, or TRL's conversational [{"role", "content"}, ...]."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        replies = [m.get("content") or "" for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
        return replies[-1] if replies else ""
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    return ""


def _defines(tree: ast.Module, name: str) -> bool:
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name for n in tree.body)


def extract_code(text: str, style: str, entry_point: str | None) -> tuple[str | None, str]:
    """(code, "") from the last fenced block that qualifies (else the whole text), or (None, why)."""
    blocks = [body for lang, body in FENCE.findall(text) if lang.lower() in ("", "python", "py", "python3")]
    why = "no code block"
    for candidate in list(reversed(blocks)) + ([text] if not blocks else []):
        try:
            tree = ast.parse(candidate)
        except (SyntaxError, ValueError) as exc:
            why = f"syntax error: {getattr(exc, 'msg', exc)}"
            continue
        if style == "function" and not _defines(tree, entry_point or ""):
            why = f"no top-level function {entry_point}()"
            continue
        return candidate, ""
    return None, why


def _decode(problem: dict) -> dict:
    """Records read back from parquet keep free-form fields as JSON text; accept both forms."""
    out = dict(problem)
    for key in ("complexity", "tests"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out


def reward(problem: dict, completion: Any, config: RewardConfig = RewardConfig(),
           sandbox: Sandbox | None = None) -> dict:
    """Score one completion of one `code_problem` record. See the module docstring."""
    problem = _decode(problem)
    box = sandbox or Sandbox()
    style, entry = problem["style"], problem.get("entry_point")
    code, why = extract_code(completion_text(completion), style, entry)
    details: dict[str, Any] = {"format_error": why or None, "passed": 0, "tests": len(problem["tests"]),
                               "verdicts": {}, "completion_class": None,
                               "reference_class": (problem.get("complexity") or {}).get("class")}
    scores = {"format": 0.0, "correctness": 0.0, "time": 0.0}
    if code is not None:
        scores["format"] = 1.0
        outcome = run_tests(box, style, code, entry, problem["tests"])
        if outcome.status == INFRA_ERROR:
            raise RuntimeError(f"sandbox failure while scoring {problem.get('id')}: {outcome.detail}")
        details["passed"] = outcome.passed
        for verdict in outcome.verdicts:
            details["verdicts"][verdict] = details["verdicts"].get(verdict, 0) + 1
        all_pass = bool(outcome.verdicts) and outcome.passed == len(outcome.verdicts)
        scores["correctness"] = float(all_pass) if config.all_or_nothing else outcome.pass_rate
        if all_pass:
            scores["time"], details["completion_class"] = _time(box, problem, code, config)
    total = (config.format_weight * scores["format"] + config.correct_weight * scores["correctness"]
             + config.time_weight * scores["time"])
    return {**scores, "total": total, "details": details}


def _time(box: Sandbox, problem: dict, code: str, config: RewardConfig) -> tuple[float, str | None]:
    reference = (problem.get("complexity") or {}).get("class")
    if reference is None or not problem.get("generator"):
        return 0.0, None
    if problem["style"] == "stdio":
        source, entry = stdio_wrapper(code), "__run_stdio__"
    else:
        source, entry = code, problem["entry_point"]
    measured = measure(box, source, entry, problem["generator"], config.profile, config.fit)
    return time_reward(measured.fit, reference), measured.cls


class CodeReward:
    """A TRL GRPO reward function over code problems.

    Each training example must carry its problem: a dataset column `problem` holding the code_problem
    record (dict or JSON text), or a column `problem_id` (or `id`) looked up in `problems`.
    Pass `component="time"` (or "format"/"correctness") to log a component as its own reward function.
    """

    def __init__(self, problems: list[dict] | None = None, config: RewardConfig = RewardConfig(),
                 sandbox: Sandbox | None = None, component: str = "total"):
        self.problems = {p["id"]: p for p in problems or []}
        self.config, self.sandbox, self.component = config, sandbox, component
        self.__name__ = "code_reward" if component == "total" else f"code_reward_{component}"

    def _problem(self, index: int, kwargs: dict) -> dict:
        if "problem" in kwargs:
            value = kwargs["problem"][index]
            return json.loads(value) if isinstance(value, str) else value
        for key in ("problem_id", "id"):
            if key in kwargs:
                return self.problems[kwargs[key][index]]
        raise KeyError("each example needs a 'problem' column or a 'problem_id' found in `problems`")

    def __call__(self, prompts: list | None = None, completions: list | None = None, **kwargs) -> list[float | None]:
        box = self.sandbox or Sandbox()

        def one(i: int) -> dict | None:
            try:
                return reward(self._problem(i, kwargs), completions[i], self.config, box)
            except RuntimeError:  # the sandbox failed: no verdict (TRL turns None into NaN and skips it)
                return None

        results = box.map(one, range(len(completions or [])))
        scored = [r for r in results if r is not None]
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and scored:
            for key in ("format", "correctness", "time"):
                log_metric(f"code/{key}", sum(r[key] for r in scored) / len(scored))
        return [float(r[self.component]) if r is not None else None for r in results]
