"""`synth judge pointwise|pairwise IN... --teacher SPEC --out DIR`: scores to filter, comparisons to rank.

    synth judge pointwise IN --teacher SPEC [--rubric FILE] [--min-score S] --out DIR   -> trajectory records
        with metadata.judge (per-criterion scores 1-10 + rationales, weighted overall score)
    synth judge pairwise IN --teacher SPEC [--pointwise auto|judge|input|off] [--min-score S] [--top-k K]
        [--pairs all|best] --out DIR                                                      -> preference_pair
        records from a position-swapped knockout per prompt; reliability figures in the manifest

Inputs: candidates (one response per record, grouped by prompt), e.g. `synth generate responses` output.
Logic: pipelines/judge/ (candidates, rubric, prompts, pointwise, verdicts, tournament, pairwise, grouping,
reliability).
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from synth.cli_common import (
    ConfigFile,
    Executor,
    Force,
    Format,
    JsonOut,
    Out,
    RayAddress,
    Seed,
    SlurmPartition,
    SlurmTime,
    Tasks,
    Workers,
    check_format,
    runtime,
    shaping_config,
    synth_command,
)
from synth.teachers.flags import (
    TEACHER_RUNTIME,
    MaxTokens,
    ModelFlag,
    TeacherFlag,
    Temperature,
)

Inputs = Annotated[list[Path], typer.Argument(help="Candidate responses: records with chat 'messages' ending in the "
                                              "response (e.g. `synth generate responses` output), or prompt + "
                                              "response; grouped by task_id / metadata.prompt_id / prompt.")]
RubricFile = Annotated[Path | None, typer.Option("--rubric", help="Criteria with descriptions and weights (YAML, "
                                                    "TOML or JSON); default: pipelines/judge/rubric.yaml.")]
MinScore = Annotated[float | None, typer.Option("--min-score", min=1.0, max=10.0, help="Point-wise filter: "
                                                   "candidates whose overall score is below go to rejects/.")]
MaxChars = Annotated[int, typer.Option("--max-chars", min=100, help="Characters of each message the judge sees "
                                       "(longer ones are clipped with a marker).")]
RationaleChars = Annotated[int, typer.Option("--rationale-chars", min=20, help="Bound on each rationale / "
                                             "analysis the judge writes.")]


def _judge_options(teacher, params: dict):
    from synth.pipelines.judge.pointwise import JudgeOptions

    return JudgeOptions(judge=f"llm:{teacher.label}", clip=params["max_chars"], rationale_chars=params["rationale_chars"])


def register(app: typer.Typer) -> None:
    @app.command("pointwise")
    @synth_command
    def pointwise(
        ctx: typer.Context, inputs: Inputs, out: Out,
        rubric: RubricFile = None, min_score: MinScore = None, max_chars: MaxChars = 4000,
        rationale_chars: RationaleChars = 400, seed: Seed = 0,
        teacher: TeacherFlag = "none", model: ModelFlag = None, temperature: Temperature = 0.0,
        max_tokens: MaxTokens = 1024,
        fmt: Format = "parquet",
        chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Candidates per commit.")] = 64,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, tasks: Tasks = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """Score every candidate per rubric criterion (1-10, with rationale); optionally filter by score."""
        params = dict(locals())
        from synth.engine import Job, run_job
        from synth.pipelines.judge.candidates import check_inputs
        from synth.pipelines.judge.pointwise import PointwiseTask, pointwise_figures
        from synth.pipelines.judge.rubric import load_rubric
        from synth.teachers.flags import teacher_from_params
        from synth.teachers.job import teacher_job
        from synth.teachers.preflight import preflight

        check_format(fmt)
        chosen = teacher_from_params(params, allow_none=False)
        loaded = load_rubric(rubric)
        check_inputs([str(p) for p in inputs])
        chosen = preflight(chosen)
        opts = _judge_options(chosen, params)
        config_ = {**shaping_config(params, *TEACHER_RUNTIME), "rubric": loaded.describe()}
        job = Job(command="judge pointwise", out=out, kind="trajectory", config=config_,
                  inputs=[str(p) for p in inputs], chunk_size=chunk_size, fmt=fmt,
                  stats=lambda o: {"judge": opts.judge, "rubric": loaded.describe(), **pointwise_figures(o)},
                  **teacher_job(PointwiseTask(loaded, opts, min_score), chosen))
        return run_job(job, runtime(params))

    @app.command("pairwise")
    @synth_command
    def pairwise(
        ctx: typer.Context, inputs: Inputs, out: Out,
        pointwise: Annotated[str, typer.Option("--pointwise", help="Point-wise stage before the tournament: auto "
                                               "(reuse scores on the input, judge the rest) | judge | input | off.")] = "auto",
        min_score: MinScore = None,
        top_k: Annotated[int | None, typer.Option("--top-k", min=2, help="Only the K best-scored candidates "
                                                     "of a prompt enter the tournament.")] = None,
        pairs: Annotated[str, typer.Option("--pairs", help="all: every decisive match becomes a pair | best: only "
                                           "the matches the tournament winner won.")] = "all",
        rubric: RubricFile = None, max_chars: MaxChars = 4000, rationale_chars: RationaleChars = 400, seed: Seed = 0,
        teacher: TeacherFlag = "none", model: ModelFlag = None, temperature: Temperature = 0.0,
        max_tokens: MaxTokens = 1024,
        fmt: Format = "parquet",
        chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Prompts per commit.")] = 16,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, tasks: Tasks = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """Best-of-n knockout per prompt, every match judged in both orders; decisive matches -> preference pairs."""
        params = dict(locals())
        from synth.engine import Job, run_job
        from synth.manifest import synth_version
        from synth.pipelines.judge.candidates import check_inputs
        from synth.pipelines.judge.grouping import GroupReader
        from synth.pipelines.judge.pairwise import PairwiseTask
        from synth.pipelines.judge.reliability import pairwise_figures
        from synth.pipelines.judge.rubric import load_rubric
        from synth.teachers.flags import teacher_from_params
        from synth.teachers.job import teacher_job
        from synth.teachers.preflight import preflight

        check_format(fmt)
        plan = _plan(params)
        chosen = teacher_from_params(params, allow_none=False)
        loaded = load_rubric(rubric)
        paths = [str(p) for p in inputs]
        rows = check_inputs(paths, need_score=plan.pointwise == "input")
        chosen = preflight(chosen)
        opts = _judge_options(chosen, params)
        provenance = {"command": "judge pairwise", "mode": "teacher", "teacher": chosen.label, "seed": seed,
                      "synth_version": synth_version()}
        task = PairwiseTask(loaded, opts, plan, seed, provenance)
        config_ = {**shaping_config(params, *TEACHER_RUNTIME), "rubric": loaded.describe()}
        rt = runtime(params)
        with _grouped(out, paths, rows, scratch=rt.dry_run) as (folder, groups):
            job = Job(command="judge pairwise", out=out, kind="preference_pair", config=config_, inputs=paths,
                      items=groups, make_item=GroupReader(folder), chunk_size=chunk_size, fmt=fmt,
                      stats=lambda o: {"judge": opts.judge, "method": plan.method, "rubric": loaded.describe(),
                                       **pairwise_figures(o)},
                      **teacher_job(task, chosen))
            return run_job(job, rt)

def _plan(params: dict):
    from synth.errors import UserError
    from synth.pipelines.judge.pairwise import PAIRS, POINTWISE_MODES, Plan

    if params["pointwise"] not in POINTWISE_MODES:
        raise UserError(f"--pointwise must be one of {', '.join(POINTWISE_MODES)}, got {params['pointwise']!r}")
    if params["pairs"] not in PAIRS:
        raise UserError(f"--pairs must be one of {', '.join(PAIRS)}, got {params['pairs']!r}")
    if params["pointwise"] == "off" and (params["min_score"] is not None or params["top_k"] is not None):
        raise UserError("--min-score and --top-k filter on point-wise scores: they need --pointwise auto|judge|input")
    return Plan(params["pointwise"], params["min_score"], params["top_k"], params["pairs"])


@contextmanager
def _grouped(out: Path, paths: list[str], rows: int, scratch: bool):
    """(folder, groups): the candidates grouped by prompt under OUT/.synth/judge/ (keyed by the inputs' hashes,
    reused on resume), or in a temporary folder for --dry-run / --pilot, which write nothing to --out."""
    from synth import manifest as mf
    from synth.dataset import STATE, require_new_or_dataset
    from synth.pipelines.judge.grouping import group_inputs

    if scratch:
        with tempfile.TemporaryDirectory(prefix="synth-judge-") as tmp:
            yield Path(tmp) / "groups", group_inputs(paths, Path(tmp) / "groups", rows)
        return
    require_new_or_dataset(Path(out))  # before anything is written into --out
    key = mf.hash_bytes(mf.canonical([mf.input_hash(Path(p)) for p in paths]))[:16]
    folder = Path(out) / STATE / "judge" / f"groups-{key}"
    yield folder, group_inputs(paths, folder, rows)
