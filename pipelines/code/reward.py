"""The gated complexity-aware reward: R = R_format + R_correct (+ R_time iff every test passes).

    reward(problem, completion) -> {"format", "correctness", "time", "total", "details"}

* format: 1 if the completion holds Python code that parses (function style: and defines the entry
  point at top level), else 0 and nothing is executed.
* correctness: pass rate over the problem's tests, run in the sandbox (or 0/1 with all_or_nothing).
* time: only when every test passes and the problem has a measured class: the completion is timed on the
  problem's generator, the reference is timed on the very same inputs, and the completion earns 1 if its
  time grows no faster than the reference's (relative growth <= `max_relative_growth`, a fraction of a
  power of n), else 0; with too few paired sizes, its fitted class must be explained by the reference's. A failing completion never gets time reward, nor
  does one whose output at any timed size differs from the reference's, or whose reported timings
  disagree with the CPU the kernel saw (`details.time_failure`, see measure.measure_checked).
* violations: policy hits (audit hook) of any run are listed in `details.violations`; with
  `violations="penalize"` (default) they zero every component.
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
from synth.pipelines.code.execute import SandboxFailure, run_tests
from synth.pipelines.code.measure import ProfileConfig, measure_checked

from synth.sandbox import INFRA_ERROR, Sandbox

VIOLATION_POLICIES = ("penalize", "ignore")
# Failures at a timed size that show the completion is *wrong* (not merely slow): they cost correctness too.
WRONG_AT_SCALE = ("scale_wrong_answer", "scale_error", "scale_runtime_error", "scale_protocol_error")

FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class RewardConfig:
    format_weight: float = 1.0
    correct_weight: float = 1.0
    time_weight: float = 1.0
    all_or_nothing: bool = False  # correctness 1 only when every test passes
    violations: str = "penalize"  # "penalize": any policy hit zeroes the reward; "ignore": recorded only
    # R_time needs the completion's time, relative to the reference's on the same inputs, to grow no faster
    # than n^this. 0.4 passes the same class (measured slope about 0 +- 0.15 on a loaded box) and fails one
    # power of n worse (about 1); a log factor (about 0.1) is below what timing can resolve, see docs/code.md.
    max_relative_growth: float = 0.4
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
    """Score one completion of one `code_problem` record. See the module docstring. Raises only
    `SandboxFailure` (a RuntimeError: the sandbox itself failed, nothing a completion can cause); any
    other error while scoring fails this completion closed, so one bad completion never costs a batch."""
    try:
        return _score(_decode(problem), completion, config, sandbox or Sandbox())
    except SandboxFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a completion provokes fails it, not the batch
        return failed_closed(exc)


def _score(problem: dict, completion: Any, config: RewardConfig, box: Sandbox) -> dict:
    style, entry = problem["style"], problem.get("entry_point")
    code, why = extract_code(completion_text(completion), style, entry)
    details: dict[str, Any] = {"format_error": why or None, "passed": 0, "tests": len(problem["tests"]),
                               "verdicts": {}, "completion_class": None, "time_failure": None, "violations": [],
                               "relative_growth": None,
                               "reference_class": (problem.get("complexity") or {}).get("class")}
    scores = {"format": 0.0, "correctness": 0.0, "time": 0.0}
    if code is not None:
        scores["format"] = 1.0
        outcome = run_tests(box, style, code, entry, problem["tests"])
        if outcome.status == INFRA_ERROR:
            raise SandboxFailure(f"sandbox failure while scoring {problem.get('id')}: {outcome.detail}")
        details["passed"], details["violations"] = outcome.passed, list(outcome.violations)
        for verdict in outcome.verdicts:
            details["verdicts"][verdict] = details["verdicts"].get(verdict, 0) + 1
        all_pass = bool(outcome.verdicts) and outcome.passed == len(outcome.verdicts)
        scores["correctness"] = float(all_pass) if config.all_or_nothing else outcome.pass_rate
        if all_pass:
            scores["time"] = _time(box, problem, code, config, details)
            if (details["time_failure"] or "").startswith(WRONG_AT_SCALE):
                scores["correctness"] = 0.0
                details["verdicts"]["wrong_at_scale"] = 1
    details["violations"] = list(dict.fromkeys(details["violations"]))  # each kind once, first seen first
    if details["violations"] and config.violations == "penalize":
        scores = dict.fromkeys(scores, 0.0)
    total = (config.format_weight * scores["format"] + config.correct_weight * scores["correctness"]
             + config.time_weight * scores["time"])
    return {**scores, "total": total, "details": details}


def _time(box: Sandbox, problem: dict, code: str, config: RewardConfig, details: dict) -> float:
    """R_time, with what was learnt recorded in `details` (class, failure at scale, violations)."""
    reference = (problem.get("complexity") or {}).get("class")
    if reference is None or not problem.get("generator"):
        return 0.0
    if problem["style"] == "stdio":
        source, ref_source, entry = stdio_wrapper(code), stdio_wrapper(problem["reference_solution"]), "__run_stdio__"
    else:
        source, ref_source, entry = code, problem["reference_solution"], problem["entry_point"]
    measured, failure = measure_checked(box, source, ref_source, entry, problem["generator"], problem["style"],
                                        config.profile, config.fit)
    details["violations"] += measured.violations
    details["completion_class"], details["time_failure"] = measured.cls, failure
    details["relative_growth"] = None if measured.relative_growth is None else round(measured.relative_growth, 4)
    if failure:
        return 0.0
    if measured.relative_growth is None:  # too few verified sizes to pair: fall back to the fitted class
        return time_reward(measured.fit, reference)
    return 1.0 if measured.relative_growth <= config.max_relative_growth else 0.0


def failed_closed(error: BaseException) -> dict:
    """The score of a completion whose scoring raised something other than a sandbox failure: zero,
    with the error named, so one bad completion never costs the batch (issue 22)."""
    details = {"format_error": None, "passed": 0, "tests": 0, "verdicts": {"internal_error": 1},
               "completion_class": None, "reference_class": None, "violations": [],
               "time_failure": None, "error": f"{type(error).__name__}: {error}"[:300]}
    return {"format": 0.0, "correctness": 0.0, "time": 0.0, "total": 0.0, "details": details}


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
            problem = self._problem(i, kwargs)  # a missing problem is the caller's error: raise it
            try:
                return reward(problem, completions[i], self.config, box)
            except SandboxFailure:  # the sandbox itself failed: no verdict (TRL turns None into NaN and skips it)
                return None

        results = box.map(one, range(len(completions or [])))
        scored = [r for r in results if r is not None]
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and scored:
            for key in ("format", "correctness", "time"):
                log_metric(f"code/{key}", sum(r[key] for r in scored) / len(scored))
        return [float(r[self.component]) if r is not None else None for r in results]
