"""Config -> Job for `synth generate trajectories` and `synth export trajectories` (the CLI only wires)."""

from __future__ import annotations

from pathlib import Path

from synth.errors import InputError, UserError


def _policy(spec: str):
    from synth.pipelines.trajectories.policies import parse_policy

    try:
        return parse_policy(spec)
    except ValueError as exc:
        raise UserError(f"--context-policy: {exc}") from None


def _open_corpus(path) -> None:
    from synth.env import Corpus

    Corpus(str(path))  # UserError (one line) when it is not a corpus


def check_tasks(inputs: list[str], need_facts: bool) -> None:
    """Bad tasks fail before any work: one line naming file, row and field."""
    from synth.dataset import iter_rows

    for row in iter_rows(inputs):
        record = row.record
        for key in ("id", "question") + (("answer", "facts") if need_facts else ()):
            if not record.get(key):
                raise InputError(row.path, row.row, "a task needs it (a deepsearch_task record)", field=key)


def settings_of(opts, teacher_label: str | None, mode: str):
    from synth.pipelines.trajectories.filters import FilterConfig
    from synth.pipelines.trajectories.generate import KEEP, GenSettings
    from synth.pipelines.trajectories.gold import GoldConfig
    from synth.pipelines.trajectories.harness import TOOL_FORMATS, HarnessConfig

    from synth.manifest import synth_version

    if opts.keep not in KEEP:
        raise UserError(f"--keep must be one of {', '.join(KEEP)}, got {opts.keep!r}")
    if opts.tool_format not in TOOL_FORMATS:
        raise UserError(f"--tool-format must be one of {', '.join(TOOL_FORMATS)}, got {opts.tool_format!r}")
    if opts.judge not in ("rule", "llm"):
        raise UserError(f"--judge must be rule or llm, got {opts.judge!r}")
    if opts.judge == "llm" and mode == "gold_path":
        raise UserError("--judge llm needs a teacher (--teacher vllm:PATH or openai:URL)")
    return GenSettings(
        rollouts=opts.rollouts, keep=opts.keep, use_llm_judge=opts.judge == "llm",
        filters=FilterConfig(require_correct=True, min_tool_calls=opts.min_tool_calls,
                             max_identical_calls=opts.max_identical_calls, token_budget=opts.token_budget),
        harness=HarnessConfig(max_turns=opts.max_turns, policy=_policy(opts.context_policy),
                              tool_format=opts.tool_format),
        gold=GoldConfig(seed=opts.seed),
        constrain_calls=opts.constrain_calls,
        provenance={"command": "generate trajectories", "mode": mode, "teacher": teacher_label,
                    "seed": opts.seed, "synth_version": synth_version()})


def generate_job(opts, config: dict):
    from synth.pipelines.trajectories.envtools import TOOLS
    from synth.pipelines.trajectories.generate import GoldPaths, TrajectoryTask

    from synth.engine import Job
    from synth.teachers.flags import teacher_from

    teacher = teacher_from(opts)
    inputs = [str(p) for p in opts.tasks]
    _open_corpus(opts.corpus)
    gold = teacher.spec.kind == "none"
    settings = settings_of(opts, teacher.label, "gold_path" if gold else "teacher")
    check_tasks(inputs, need_facts=gold)
    common = {"command": "generate trajectories", "out": Path(opts.out), "kind": "trajectory",
              "config": config, "inputs": inputs, "chunk_size": opts.chunk_size, "fmt": opts.fmt,
              "stats": generate_stats}
    tools = tuple(t.strip() for t in opts.tools.split(",") if t.strip())
    if not tools or set(tools) - set(TOOLS) or (gold and not {"search", "open"} <= set(tools)):
        raise UserError(f"--tools: a comma list of {', '.join(TOOLS)} (gold paths need search and open); "
                        f"got {opts.tools!r}")
    if gold:
        return Job(**common, steps=[GoldPaths(str(opts.corpus), settings, tools)])
    from synth.teachers.job import teacher_job
    from synth.teachers.preflight import preflight

    teacher = preflight(teacher)
    task = TrajectoryTask(str(opts.corpus), settings, tools)
    return Job(**common, **teacher_job(task, teacher))


def generate_stats(out: Path) -> dict:
    """Manifest statistics: stops, tool calls and turns of the kept trajectories, judge methods."""
    from collections import Counter

    from synth.pipelines.labels.apply import iter_output
    from synth.pipelines.trajectories.provenance import run_stats

    stops, methods, calls, turns = Counter(), Counter(), [], []
    provenance = run_stats(iter_output(out))   # a teacher may know things; the rate says how often it showed
    for record in iter_output(out):
        meta = record.get("metadata") or {}
        stops[meta.get("stop") or "?"] += 1
        methods[(record.get("judgement") or {}).get("method") or "none"] += 1
        calls.append(meta.get("tool_calls") or 0)
        turns.append(meta.get("turns") or 0)
    mean = (lambda xs: round(sum(xs) / len(xs), 2) if xs else None)
    return {"trajectories": len(calls), "stops": dict(stops), "judge_methods": dict(methods),
            "mean_tool_calls": mean(calls), "max_tool_calls": max(calls, default=None), "mean_turns": mean(turns),
            "provenance": provenance}


def export_job(opts, config: dict):
    from synth.pipelines.trajectories.export import TARGETS, ExportStep

    from synth.dataset import dataset_kind, is_dataset_dir
    from synth.engine import Job

    target = opts.to
    if target not in TARGETS:
        raise UserError(f"--to must be one of {', '.join(TARGETS)}, got {target!r}")
    names = [n.strip() for n in opts.context_policy.split(",") if n.strip()] or ["full"]
    names = [_policy(n).name for n in names]
    inputs = [str(p) for p in opts.inputs]
    kinds = {dataset_kind(Path(p)) for p in inputs if is_dataset_dir(Path(p))}
    input_kind = kinds.pop() if len(kinds) == 1 else "trajectory"
    if input_kind == "deepsearch_task" and target != "rl":
        raise UserError("deepsearch tasks export only --to rl; trajectories export to every target")
    env = None
    if input_kind == "deepsearch_task":
        if not opts.corpus:
            raise UserError("--to rl from deepsearch tasks needs --corpus (the environment of the rl tasks)")
        from synth.pipelines.trajectories.envtools import EnvTools

        env = {**EnvTools(str(opts.corpus)).spec(), "max_turns": opts.max_turns, "context_policy": names[0]}
    kind = {"sft": "trajectory", "rl": "rl_task"}.get(target, "generic")
    reasoning_loss = opts.reasoning_loss
    if reasoning_loss not in (None, 0, 1):
        raise UserError(f"--reasoning-loss must be 0 or 1, got {reasoning_loss!r}")
    step = ExportStep(target, names, opts.unverified, env, reasoning_loss, _tokenize_step(opts, target))
    return Job(command="export trajectories", out=Path(opts.out), kind=kind, config=config, inputs=inputs,
               input_kind=input_kind, steps=[step], chunk_size=opts.chunk_size, fmt=opts.fmt)


def _tokenize_step(opts, target: str):
    """--to trl: the tokenizer folder (a local HF tokenizer with a chat template), checked before any work."""
    if target != "trl":
        return None
    if not opts.tokenizer:
        raise UserError("--to trl needs --tokenizer DIR (a local Hugging Face tokenizer folder with a chat template)")
    from synth.pipelines.trajectories.tokenized import TokenizeForTrl

    step = TokenizeForTrl(str(opts.tokenizer), opts.max_len)
    try:
        step.setup(0, 1)
    except (OSError, ValueError) as exc:
        raise UserError(f"--tokenizer {opts.tokenizer}: {str(exc).splitlines()[0]}") from None
    step._renderer = None   # opened again in the worker (steps are pickled)
    return step
