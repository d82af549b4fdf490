"""`synth generate responses IN... --teacher SPEC [--n K] --out DIR`: K candidate responses per prompt.

The first teacher command, and the template for the others: shared teacher flags (synth.teachers.flags),
a pre-flight check, then a Job whose tail is the teacher's InferenceRunner (synth.teachers.job).
"""

from __future__ import annotations

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

ChunkSize = Annotated[int, typer.Option("--chunk-size", min=1, help="Prompts per commit (the resume unit).")]
N = Annotated[int, typer.Option("--n", "-n", min=1, help="Candidate responses per prompt.")]


def check_prompts(inputs: list[str]) -> None:
    """Bad input fails before any teacher call: one line naming file, row and field."""
    from synth.dataset import iter_rows
    from synth.errors import InputError
    from synth.pipelines.judge.responses import prompt_of

    for row in iter_rows(inputs):
        if prompt_of(row.record) is None:
            raise InputError(row.path, row.row, "no prompt to answer: expected chat 'messages' with a non-system "
                             "message, or a 'prompt'/'question' string", field="messages")


def register(app: typer.Typer) -> None:
    @app.command("responses")
    @synth_command
    def responses(
        ctx: typer.Context,
        inputs: Annotated[list[Path], typer.Argument(help="Datasets of prompts (records with 'messages').")],
        out: Out,
        teacher: TeacherFlag = "none", model: ModelFlag = None, n: N = 4, seed: Seed = 0,
        temperature: Temperature = 0.8, max_tokens: MaxTokens = 1024,
        fmt: Format = "parquet", chunk_size: ChunkSize = 64,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, tasks: Tasks = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """K candidate responses per prompt from a teacher model (trajectory records, task_id = prompt id)."""
        params = dict(locals())
        from synth.engine import Job, run_job
        from synth.manifest import synth_version
        from synth.pipelines.judge.responses import ResponsesTask
        from synth.teachers.flags import teacher_from_params
        from synth.teachers.job import teacher_job
        from synth.teachers.preflight import preflight

        check_format(fmt)
        chosen = teacher_from_params(params, allow_none=False)
        check_prompts([str(p) for p in inputs])
        chosen = preflight(chosen)
        task = ResponsesTask(n=n, teacher=chosen.label, seed=seed, version=synth_version())
        summary = chosen.describe()
        job = Job(command="generate responses", out=out, kind="trajectory",
                  config=shaping_config(params, *TEACHER_RUNTIME), inputs=[str(p) for p in inputs],
                  chunk_size=chunk_size, fmt=fmt, stats=lambda _out: {"teacher": summary, "n": n},
                  **teacher_job(task, chosen))
        return run_job(job, runtime(params))
