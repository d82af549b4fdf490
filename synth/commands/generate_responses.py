"""`synth generate responses IN... --teacher SPEC [--n K] --out DIR`: K candidate responses per prompt.

The first teacher command, and the template for the others: the shared teacher flags (TeacherFlags), a
pre-flight check, then a Job whose tail is the teacher's InferenceRunner (synth.teachers.job).
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command, runtime
from synth.options import Formatted, RunOptions, chunk_size, flag, like, options, shaping
from synth.teachers.flags import TeacherFlags


@options
class ResponsesOptions(TeacherFlags, Formatted, RunOptions):
    inputs: list[Path] = flag(help="Datasets of prompts (records with 'messages').", argument=True)
    n: int = flag(4, "Candidate responses per prompt.", cli=("--n", "-n"), min=1)
    temperature: float = like(TeacherFlags, "temperature", 0.8)
    chunk_size: int = chunk_size(64, "Prompts")


def check_prompts(inputs: list[str]) -> None:
    """Bad input fails before any teacher call: one line naming file, row and field."""
    from synth.dataset import iter_rows
    from synth.errors import InputError
    from synth.pipelines.judge.responses import prompt_of

    for row in iter_rows(inputs):
        if prompt_of(row.record) is None:
            raise InputError(row.path, row.row, "no prompt to answer: expected chat 'messages' with a non-system "
                             "message, or a 'prompt'/'question' string", field="messages")


def run(opts: ResponsesOptions) -> dict:
    """K candidate responses per prompt from a teacher model (trajectory records, task_id = prompt id)."""
    from synth.engine import Job, run_job
    from synth.manifest import synth_version
    from synth.pipelines.judge.responses import ResponsesTask
    from synth.teachers.flags import teacher_from
    from synth.teachers.job import teacher_job
    from synth.teachers.preflight import preflight

    chosen = teacher_from(opts, allow_none=False)
    check_prompts([str(p) for p in opts.inputs])
    chosen = preflight(chosen)
    task = ResponsesTask(n=opts.n, teacher=chosen.label, seed=opts.seed, version=synth_version())
    summary = chosen.describe()
    job = Job(command="generate responses", out=opts.out, kind="trajectory", config=shaping(opts),
              inputs=[str(p) for p in opts.inputs], chunk_size=opts.chunk_size, fmt=opts.fmt,
              stats=lambda _out: {"teacher": summary, "n": opts.n}, **teacher_job(task, chosen))
    return run_job(job, runtime(opts))


def register(app: typer.Typer) -> None:
    command(app, "responses", ResponsesOptions, run)
