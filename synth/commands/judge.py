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

import typer

from synth.cli_common import command, runtime
from synth.options import Formatted, RunOptions, chunk_size, flag, like, options, shaping
from synth.teachers.flags import TeacherFlags


@options
class JudgeFlags(TeacherFlags, Formatted, RunOptions):
    """What point-wise and pair-wise judging share."""

    inputs: list[Path] = flag(help="Candidate responses: records with chat 'messages' ending in the response (e.g. "
                              "`synth generate responses` output), or prompt + response; grouped by task_id / "
                              "metadata.prompt_id / prompt.", argument=True)
    rubric: Path | None = flag(None, "Criteria with descriptions and weights (YAML, TOML or JSON); default: "
                               "pipelines/judge/rubric.yaml.", cli=("--rubric",))
    min_score: float | None = flag(None, "Point-wise filter: candidates whose overall score is below go to "
                                   "rejects/.", cli=("--min-score",), min=1.0, max=10.0)
    max_chars: int = flag(4000, "Characters of each message the judge sees (longer ones are clipped with a marker).",
                          cli=("--max-chars",), min=100)
    rationale_chars: int = flag(400, "Bound on each rationale / analysis the judge writes.",
                                cli=("--rationale-chars",), min=20)
    temperature: float = like(TeacherFlags, "temperature", 0.0)


@options
class PointwiseOptions(JudgeFlags):
    chunk_size: int = chunk_size(64, "Candidates")


@options
class PairwiseOptions(JudgeFlags):
    pointwise: str = flag("auto", "Point-wise stage before the tournament: auto (reuse scores on the input, judge "
                          "the rest) | judge | input | off.", cli=("--pointwise",))
    top_k: int | None = flag(None, "Only the K best-scored candidates of a prompt enter the tournament.",
                             cli=("--top-k",), min=2)
    pairs: str = flag("all", "all: every decisive match becomes a pair | best: only the matches the tournament "
                      "winner won.", cli=("--pairs",))
    chunk_size: int = chunk_size(16, "Prompts")


def _judge_options(teacher, opts: JudgeFlags):
    from synth.pipelines.judge.pointwise import JudgeOptions

    return JudgeOptions(judge=f"llm:{teacher.label}", clip=opts.max_chars, rationale_chars=opts.rationale_chars)


def _prepared(opts: JudgeFlags, need_score: bool = False):
    """(teacher, rubric, input paths, rows, config): the checks both judges make before any call."""
    from synth.pipelines.judge.candidates import check_inputs
    from synth.pipelines.judge.rubric import load_rubric
    from synth.teachers.flags import teacher_from
    from synth.teachers.preflight import preflight

    chosen = teacher_from(opts, allow_none=False)
    loaded = load_rubric(opts.rubric)
    paths = [str(p) for p in opts.inputs]
    rows = check_inputs(paths, need_score=need_score)
    return preflight(chosen), loaded, paths, rows, {**shaping(opts), "rubric": loaded.describe()}


def pointwise(opts: PointwiseOptions) -> dict:
    """Score every candidate per rubric criterion (1-10, with rationale); optionally filter by score."""
    from synth.engine import Job, run_job
    from synth.pipelines.judge.pointwise import PointwiseTask, pointwise_figures
    from synth.teachers.job import teacher_job

    chosen, loaded, paths, _rows, config = _prepared(opts)
    judge = _judge_options(chosen, opts)
    job = Job(command="judge pointwise", out=opts.out, kind="trajectory", config=config, inputs=paths,
              chunk_size=opts.chunk_size, fmt=opts.fmt,
              stats=lambda o: {"judge": judge.judge, "rubric": loaded.describe(), **pointwise_figures(o)},
              **teacher_job(PointwiseTask(loaded, judge, opts.min_score), chosen))
    return run_job(job, runtime(opts))


def pairwise(opts: PairwiseOptions) -> dict:
    """Best-of-n knockout per prompt, every match judged in both orders; decisive matches -> preference pairs."""
    from synth.engine import Job, run_job
    from synth.manifest import synth_version
    from synth.pipelines.judge.grouping import GroupReader
    from synth.pipelines.judge.pairwise import PairwiseTask
    from synth.pipelines.judge.reliability import pairwise_figures
    from synth.teachers.job import teacher_job

    plan = _plan(opts)
    chosen, loaded, paths, rows, config = _prepared(opts, need_score=plan.pointwise == "input")
    judge = _judge_options(chosen, opts)
    provenance = {"command": "judge pairwise", "mode": "teacher", "teacher": chosen.label, "seed": opts.seed,
                  "synth_version": synth_version()}
    task = PairwiseTask(loaded, judge, plan, opts.seed, provenance)
    rt = runtime(opts)
    with _grouped(opts.out, paths, rows, scratch=rt.dry_run) as (folder, groups):
        job = Job(command="judge pairwise", out=opts.out, kind="preference_pair", config=config, inputs=paths,
                  items=groups, make_item=GroupReader(folder), chunk_size=opts.chunk_size, fmt=opts.fmt,
                  stats=lambda o: {"judge": judge.judge, "method": plan.method, "rubric": loaded.describe(),
                                   **pairwise_figures(o)},
                  **teacher_job(task, chosen))
        return run_job(job, rt)


def register(app: typer.Typer) -> None:
    command(app, "pointwise", PointwiseOptions, pointwise)
    command(app, "pairwise", PairwiseOptions, pairwise)


def _plan(opts: PairwiseOptions):
    from synth.errors import UserError
    from synth.pipelines.judge.pairwise import PAIRS, POINTWISE_MODES, Plan

    if opts.pointwise not in POINTWISE_MODES:
        raise UserError(f"--pointwise must be one of {', '.join(POINTWISE_MODES)}, got {opts.pointwise!r}")
    if opts.pairs not in PAIRS:
        raise UserError(f"--pairs must be one of {', '.join(PAIRS)}, got {opts.pairs!r}")
    if opts.pointwise == "off" and (opts.min_score is not None or opts.top_k is not None):
        raise UserError("--min-score and --top-k filter on point-wise scores: they need --pointwise auto|judge|input")
    return Plan(opts.pointwise, opts.min_score, opts.top_k, opts.pairs)


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
