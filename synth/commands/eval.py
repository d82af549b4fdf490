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
    ReportTo,
    Seed,
    SlurmPartition,
    SlurmTime,
    Workers,
    check_format,
    runtime,
    shaping_config,
    synth_command,
)
from synth.teachers.flags import (
    TEACHER_RUNTIME,
    MaxTokens,
    Temperature,
)

Opt = typer.Option
EvalModel = Annotated[str | None, Opt("--model", help="Model folder to evaluate (e.g. `synth train` output), served "
                                      "with vLLM; with --teacher: the served model name (as for every teacher).")]
EvalTeacher = Annotated[str, Opt("--teacher", help="Instead of --model PATH: vllm:MODEL_PATH | openai:URL (with "
                                 "--model NAME; key from SYNTH_API_KEY or OPENAI_API_KEY).")]
Samples = Annotated[int, Opt("--samples", min=1, help="Samples per item; accuracy is passed/samples averaged over "
                             "items (pass@1), pass_at_k is reported too when > 1 (needs --temperature > 0).")]
Shards = Annotated[int | None, Opt("--shards", min=1, help="Output shards / datatrove tasks (default: --workers; "
                                   "fixed by the first run). --tasks names the input tasks here.")]


def _finish(summary: dict, out: Path, json_out: bool, report_to: str = "none") -> dict:
    """The run summary plus the eval numbers from the manifest (flattened for the human table); a complete
    run's numbers also go to OUT/metrics.jsonl and the --report-to trackers."""
    from synth import tracking
    from synth.dataset import read_manifest
    from synth.pipelines.eval.summary import human

    manifest = read_manifest(out) or {}
    stats = manifest.get("stats") or {}
    if summary.get("status") == "complete":
        tracking.report_final(out, stats, report_to, manifest.get("config") or {})
    return {**summary, "results": stats} if json_out else {**summary, **human(stats)}


def register(app: typer.Typer) -> None:
    @app.command("deepsearch")
    @synth_command
    def eval_deepsearch(
        ctx: typer.Context,
        tasks: Annotated[list[Path], Opt("--tasks", help="Held-out deepsearch_task dataset(s), or JSONL/Parquet "
                                         "with id, question, answer (aliases, tier optional).")],
        corpus: Annotated[Path, Opt("--corpus", help="CORPUS the tasks were built on (synth corpus build).")],
        out: Out,
        model: EvalModel = None,
        teacher: EvalTeacher = "none",
        samples: Samples = 1,
        max_turns: Annotated[int, Opt("--max-turns", min=1, help="Model turns per rollout.")] = 32,
        context_policy: Annotated[str, Opt("--context-policy", help="full | keep_last_k:K | summary[:K]: what "
                                           "the model sees each turn (use what it was trained with).")] = "full",
        tools: Annotated[str, Opt("--tools", help="Environment tools offered: comma list of search, open, visit.")
                         ] = "search,open,visit",
        tool_format: Annotated[str, Opt("--tool-format", help="hermes (Qwen <tool_call> text) | openai (native "
                                        "tools) | mcp_xml.")] = "hermes",
        constrain_calls: Annotated[bool, Opt("--constrain-calls", help="vLLM: regex-constrain every turn to one "
                                             "well-formed call or an answer (small or untrained models).")] = False,
        save_messages: Annotated[bool, Opt("--save-messages/--no-save-messages", help="Keep each rollout's "
                                           "messages in the records (for reading failures).")] = True,
        seed: Seed = 0,
        temperature: Temperature = 0.0, max_tokens: MaxTokens = 1024,
        fmt: Format = "parquet",
        chunk_size: Annotated[int, Opt("--chunk-size", min=1, help="Tasks per commit (the resume unit).")] = 16,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, shards: Shards = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None, report_to: ReportTo = "none",
    ):
        """Run a model as a deep-search agent on held-out tasks: accuracy, tool calls, turns, per tier."""
        params = dict(locals())  # first statement: exactly the (config-merged) flags
        from synth import tracking
        from synth.engine import run_job
        from synth.pipelines.eval.build import deepsearch_job

        check_format(fmt)
        tracking.parse(report_to)
        job = deepsearch_job(params, {**shaping_config(params, *TEACHER_RUNTIME, "shards"),
                                      "tasks": [str(p) for p in tasks]})
        return _finish(run_job(job, runtime({**params, "tasks": shards})), out, json_out, report_to)

    @app.command("code")
    @synth_command
    def eval_code(
        ctx: typer.Context,
        problems: Annotated[list[Path], Opt("--problems", help="Held-out code_problem dataset(s) (synth generate code).")],
        out: Out,
        model: EvalModel = None,
        teacher: EvalTeacher = "none",
        samples: Samples = 1,
        format_weight: Annotated[float, Opt("--format-weight", help="Weight of R_format.")] = 1.0,
        correct_weight: Annotated[float, Opt("--correct-weight", help="Weight of R_correct.")] = 1.0,
        time_weight: Annotated[float, Opt("--time-weight", help="Weight of R_time (only when all tests pass).")] = 1.0,
        all_or_nothing: Annotated[bool, Opt("--all-or-nothing", help="R_correct is 1 only when every test passes.")
                                  ] = False,
        sandbox: Annotated[str | None, Opt("--sandbox", help="bwrap | unshare | rlimits (default: the strongest "
                                           "that works here).")] = None,
        sandbox_workers: Annotated[int, Opt("--sandbox-workers", min=1, help="Sandboxed processes per task.")] = 2,
        seed: Seed = 0,
        temperature: Temperature = 0.0, max_tokens: MaxTokens = 1024,
        fmt: Format = "parquet",
        chunk_size: Annotated[int, Opt("--chunk-size", min=1, help="Problems per commit (the resume unit).")] = 16,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, shards: Shards = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None, report_to: ReportTo = "none",
    ):
        """Score a model's answers to held-out code problems: pass@1 and the gated time reward."""
        params = dict(locals())
        from synth import tracking
        from synth.engine import run_job
        from synth.pipelines.eval.build import code_job

        check_format(fmt)
        tracking.parse(report_to)
        job = code_job(params, {**shaping_config(params, *TEACHER_RUNTIME, "shards", "sandbox", "sandbox_workers"),
                                "problems": [str(p) for p in problems]})
        return _finish(run_job(job, runtime({**params, "tasks": shards})), out, json_out, report_to)
