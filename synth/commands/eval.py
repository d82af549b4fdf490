"""`synth eval deepsearch` and `synth eval code`: how well does a model do on held-out items?

    synth eval deepsearch --model runs/model --tasks HELDOUT --corpus CORPUS --out DIR
    synth eval deepsearch --teacher openai:URL --model NAME --tasks HELDOUT --corpus CORPUS --out DIR
    synth eval code --model runs/model --problems HELDOUT --out DIR

One eval_result record per item (every sample kept), the summary (accuracy / pass@1, tool calls, turns,
per-tier results) in the manifest's `stats` and on stdout. `--tasks` names the input tasks here, as in
`synth generate trajectories`; the shard count is `--shards`. Logic: pipelines/eval/.
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command, runtime
from synth.commands.trajectories import AgentFlags
from synth.options import (
    Formatted,
    Reporting,
    RunOptions,
    Sandboxed,
    chunk_size,
    flag,
    like,
    options,
    shaping,
)
from synth.teachers.flags import TeacherFlags

EVAL_MODEL = {"help": "Model folder to evaluate (e.g. `synth train` output), served with vLLM; with --teacher: the "
                        "served model name (as for every teacher)."}
EVAL_TEACHER = {"help": "Instead of --model PATH: vllm:MODEL_PATH | openai:URL (with --model NAME; key from "
                          "SYNTH_API_KEY or OPENAI_API_KEY)."}
SAMPLES = ("Samples per item; accuracy is passed/samples averaged over items (pass@1), pass_at_k is reported too "
           "when > 1 (needs --temperature > 0).")


@options
class EvalFlags(Reporting):
    """What both evals add to a teacher command: the evaluated model and how often to sample it."""

    model: str | None = like(TeacherFlags, "model", **EVAL_MODEL)
    teacher: str = like(TeacherFlags, "teacher", **EVAL_TEACHER)
    samples: int = flag(1, SAMPLES, cli=("--samples",), min=1)
    temperature: float = like(TeacherFlags, "temperature", 0.0)


@options
class EvalDeepsearchOptions(EvalFlags, AgentFlags):
    tasks: list[Path] = like(AgentFlags, "tasks", help="Held-out deepsearch_task dataset(s), or JSONL/Parquet with "
                             "id, question, answer (aliases, tier optional).")
    max_turns: int = like(AgentFlags, "max_turns", 32, help="Model turns per rollout.")
    save_messages: bool = flag(True, "Keep each rollout's messages in the records (for reading failures).",
                               cli=("--save-messages/--no-save-messages",))


@options
class EvalCodeOptions(EvalFlags, Sandboxed, TeacherFlags, Formatted, RunOptions):
    problems: list[Path] = flag(help="Held-out code_problem dataset(s) (synth generate code).", cli=("--problems",))
    format_weight: float = flag(1.0, "Weight of R_format.", cli=("--format-weight",))
    correct_weight: float = flag(1.0, "Weight of R_correct.", cli=("--correct-weight",))
    time_weight: float = flag(1.0, "Weight of R_time (only when all tests pass).", cli=("--time-weight",))
    all_or_nothing: bool = flag(False, "R_correct is 1 only when every test passes.", cli=("--all-or-nothing",))
    chunk_size: int = chunk_size(16, "Problems")


def _finish(summary: dict, opts: EvalFlags) -> dict:
    """The run summary plus the eval numbers from the manifest (flattened for the human table); a complete
    run's numbers also go to OUT/metrics.jsonl and the --report-to trackers."""
    from synth import tracking
    from synth.dataset import read_manifest
    from synth.pipelines.eval.summary import human

    manifest = read_manifest(opts.out) or {}
    stats = manifest.get("stats") or {}
    if summary.get("status") == "complete":
        tracking.report_final(opts.out, stats, opts.report_to, manifest.get("config") or {})
    return {**summary, "results": stats} if opts.json_out else {**summary, **human(stats)}


def deepsearch(opts: EvalDeepsearchOptions) -> dict:
    """Run a model as a deep-search agent on held-out tasks: accuracy, tool calls, turns, per tier."""
    from synth import tracking
    from synth.engine import run_job
    from synth.pipelines.eval.build import deepsearch_job

    tracking.parse(opts.report_to)
    return _finish(run_job(deepsearch_job(opts, shaping(opts)), runtime(opts)), opts)


def code(opts: EvalCodeOptions) -> dict:
    """Score a model's answers to held-out code problems: pass@1 and the gated time reward."""
    from synth import tracking
    from synth.engine import run_job
    from synth.pipelines.eval.build import code_job

    tracking.parse(opts.report_to)
    return _finish(run_job(code_job(opts, shaping(opts)), runtime(opts)), opts)


def register(app: typer.Typer) -> None:
    command(app, "deepsearch", EvalDeepsearchOptions, deepsearch)
    command(app, "code", EvalCodeOptions, code)
