"""`synth label turns IN... --out DIR --judge rule|llm [--teacher SPEC]`: turn-level supervision.

Every message gets `loss` (0/1; tool, user and system always 0), `weight` and, on assistant turns,
`turn_label` {label, scores, judge, reason}; the manifest's `stats` counts labels and loss flags.
Logic: pipelines/labels/ (rule.py, critic.py, apply.py).
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


def register(app: typer.Typer) -> None:
    @app.command("turns")
    @synth_command
    def turns(
        ctx: typer.Context,
        inputs: Annotated[list[Path], typer.Argument(help="Trajectory datasets (synth generate trajectories, synth import).")],
        out: Out,
        judge: Annotated[str, typer.Option("--judge", help="rule (information gain against the gold evidence) | "
                                           "llm (a critic per turn; needs --teacher).")] = "rule",
        review_chars: Annotated[int, typer.Option("--review-chars", min=50, help="llm: characters of each tool "
                                                  "result / reasoning the critic sees (earlier steps: 3x).")] = 2000,
        seed: Seed = 0,
        teacher: TeacherFlag = "none", model: ModelFlag = None, temperature: Temperature = 0.0,
        max_tokens: MaxTokens = 512,
        fmt: Format = "parquet",
        chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Trajectories per commit.")] = 64,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, tasks: Tasks = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """Label every assistant turn (essential, redundant, error, ...) and set per-message loss flags."""
        params = dict(locals())  # first statement: exactly the (config-merged) flags
        from synth.engine import Job, run_job
        from synth.errors import UserError
        from synth.pipelines.labels.apply import label_stats
        from synth.teachers.flags import teacher_from_params

        if judge not in ("rule", "llm"):
            raise UserError(f"--judge must be rule or llm, got {judge!r}")
        check_format(fmt)
        chosen = teacher_from_params(params, allow_none=judge == "rule")
        common = {"command": "label turns", "out": out, "kind": "trajectory",
                  "config": shaping_config(params, *TEACHER_RUNTIME), "inputs": [str(p) for p in inputs],
                  "input_kind": "trajectory", "chunk_size": chunk_size, "fmt": fmt, "stats": label_stats}
        if judge == "rule":
            from synth.pipelines.labels.rule import RuleLabels

            return run_job(Job(**common, steps=[RuleLabels()]), runtime(params))
        from synth.pipelines.labels.critic import CriticTask
        from synth.teachers.job import teacher_job
        from synth.teachers.preflight import preflight

        chosen = preflight(chosen)
        task = CriticTask(f"llm:{chosen.label}", clip=review_chars)
        return run_job(Job(**common, **teacher_job(task, chosen)), runtime(params))
