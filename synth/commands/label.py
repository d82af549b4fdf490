"""`synth label turns IN... --out DIR --judge rule|llm [--teacher SPEC]`: turn-level supervision.

Every message gets `loss` (0/1; tool, user and system always 0), `weight` and, on assistant turns,
`turn_label` {label, scores, judge, reason}; the manifest's `stats` counts labels and loss flags.
Logic: pipelines/labels/ (rule.py, critic.py, apply.py).
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command, runtime
from synth.options import Formatted, RunOptions, chunk_size, flag, like, options, shaping
from synth.teachers.flags import TeacherFlags


@options
class LabelOptions(TeacherFlags, Formatted, RunOptions):
    inputs: list[Path] = flag(help="Trajectory datasets (synth generate trajectories, synth import).", argument=True)
    judge: str = flag("rule", "rule (information gain against the gold evidence) | llm (a critic per turn; needs "
                      "--teacher).", cli=("--judge",), choices=("rule", "llm"))
    review_chars: int = flag(2000, "llm: characters of each tool result / reasoning the critic sees (earlier "
                             "steps: 3x).", cli=("--review-chars",), min=50)
    temperature: float = like(TeacherFlags, "temperature", 0.0)
    max_tokens: int = like(TeacherFlags, "max_tokens", 512)
    chunk_size: int = chunk_size(64, "Trajectories")


def run(opts: LabelOptions) -> dict:
    """Label every assistant turn (essential, redundant, error, ...) and set per-message loss flags."""
    from synth.engine import Job, run_job
    from synth.pipelines.labels.apply import label_stats
    from synth.teachers.flags import teacher_from

    chosen = teacher_from(opts, allow_none=opts.judge == "rule")
    common = {"command": "label turns", "out": opts.out, "kind": "trajectory", "config": shaping(opts),
              "inputs": [str(p) for p in opts.inputs], "input_kind": "trajectory", "chunk_size": opts.chunk_size,
              "fmt": opts.fmt, "stats": label_stats}
    if opts.judge == "rule":
        from synth.pipelines.labels.rule import RuleLabels

        return run_job(Job(**common, steps=[RuleLabels()]), runtime(opts))
    from synth.pipelines.labels.critic import CriticTask
    from synth.teachers.job import teacher_job
    from synth.teachers.preflight import preflight

    chosen = preflight(chosen)
    task = CriticTask(f"llm:{chosen.label}", clip=opts.review_chars)
    return run_job(Job(**common, **teacher_job(task, chosen)), runtime(opts))


def register(app: typer.Typer) -> None:
    command(app, "turns", LabelOptions, run)
