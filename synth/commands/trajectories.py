"""`synth generate trajectories` (agent rollouts or gold paths over deep-search tasks) and
`synth export trajectories` (sft / rl / tool-call formats). Logic: pipelines/trajectories/ (build.py)."""

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

Opt = typer.Option
Policy = Annotated[str, Opt("--context-policy", help="full | keep_last_k:K (older tool results become a "
                            "placeholder) | summary[:K] (older turns summarized, K recent turns kept).")]


def register_generate(app: typer.Typer) -> None:
    @app.command("trajectories")
    @synth_command
    def trajectories(
        ctx: typer.Context,
        tasks: Annotated[list[Path], Opt("--tasks", help="deepsearch_task dataset(s) (synth generate deepsearch).")],
        corpus: Annotated[Path, Opt("--corpus", help="CORPUS the tasks were built on (synth corpus build).")],
        out: Out,
        rollouts: Annotated[int, Opt("--rollouts", min=1, help="Rollouts per task.")] = 1,
        max_turns: Annotated[int, Opt("--max-turns", min=1, help="Model turns per rollout (the paper: up to 600).")] = 64,
        context_policy: Policy = "full",
        tools: Annotated[str, Opt("--tools", help="Environment tools offered: comma list of search, open, visit "
                                  "(visit reads passages with MiniLM).")] = "search,open,visit",
        tool_format: Annotated[str, Opt("--tool-format", help="How the teacher sees tools and calls: hermes "
                                        "(Qwen <tool_call> text) | openai (native tools) | mcp_xml (MiroThinker).")] = "hermes",
        keep: Annotated[str, Opt("--keep", help="best (the passing rollout with the fewest calls) | correct "
                                 "(every passing rollout) | all (no filtering).")] = "best",
        judge: Annotated[str, Opt("--judge", help="Answer judge: rule (normalized exact / alias) | llm (rule, then "
                                  "the teacher under a JSON schema).")] = "rule",
        min_tool_calls: Annotated[int, Opt("--min-tool-calls", min=0, help="Filter: fewer calls is a reject.")] = 1,
        max_identical_calls: Annotated[int, Opt("--max-identical-calls", min=0, help="Filter: an identical call more "
                                                "often (or twice in a row) is a reject; 0: only in a row.")] = 2,
        token_budget: Annotated[int, Opt("--token-budget", min=0, help="Filter: longer trajectories are rejects "
                                         "(estimated tokens; 0: no limit).")] = 0,
        constrain_calls: Annotated[bool, Opt("--constrain-calls", help="vLLM teachers: regex-constrain every turn to "
                                             "one well-formed call or an answer (small or untrained models).")] = False,
        seed: Seed = 0,
        teacher: TeacherFlag = "none", model: ModelFlag = None, temperature: Temperature = 0.7,
        max_tokens: MaxTokens = 1024,
        fmt: Format = "parquet",
        chunk_size: Annotated[int, Opt("--chunk-size", min=1, help="Tasks per commit (the resume unit).")] = 16,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1,
        shards: Annotated[int | None, Opt("--shards", min=1, help="Output shards / datatrove tasks (default: "
                                             "--workers; fixed by the first run). --tasks names the input here.")] = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """Agent trajectories over deep-search tasks: teacher rollouts, or gold paths with --teacher none."""
        params = dict(locals())  # first statement: exactly the (config-merged) flags
        from synth.engine import run_job
        from synth.pipelines.trajectories.build import generate_job

        check_format(fmt)
        job = generate_job(params, {**shaping_config(params, *TEACHER_RUNTIME, "shards"),
                                    "tasks": [str(p) for p in tasks]})
        return run_job(job, runtime({**params, "tasks": shards}))


def register_export(app: typer.Typer) -> None:
    @app.command("trajectories")
    @synth_command
    def export_trajectories(
        ctx: typer.Context,
        inputs: Annotated[list[Path], typer.Argument(help="Trajectory datasets (or deepsearch tasks for --to rl).")],
        out: Out,
        to: Annotated[str, Opt("--to", help="sft | trl (tokenized for TRL SFTTrainer) | rl | openai | hermes | "
                                             "mcp_xml.")] = "sft",
        tokenizer: Annotated[Path | None, Opt("--tokenizer", help="trl: a local HF tokenizer folder with a chat "
                                              "template.")] = None,
        max_len: Annotated[int, Opt("--max-len", min=16, help="trl: longest row in tokens (longer: reject).")] = 32768,
        reasoning_loss: Annotated[int | None, Opt("--reasoning-loss", help="sft/trl: 1 trains reasoning with its "
                                                  "message's loss, 0 keeps it as context only (per message: "
                                                  "`reasoning_loss`; default: as the records say).")] = None,
        context_policy: Annotated[str, Opt("--context-policy", help="sft: comma list of policies, one variant each "
                                           "(full, keep_last_k:K, summary[:K]).")] = "full",
        unverified: Annotated[bool, Opt("--unverified", help="Also export trajectories whose answer is wrong or "
                                        "unjudged, or whose format is broken.")] = False,
        corpus: Annotated[Path | None, Opt("--corpus", help="rl from deepsearch tasks: the environment's corpus.")] = None,
        max_turns: Annotated[int, Opt("--max-turns", min=1, help="rl from deepsearch tasks: turn limit of the environment.")] = 64,
        fmt: Format = "parquet",
        chunk_size: Annotated[int, Opt("--chunk-size", min=1, help="Records per commit (the resume unit).")] = 256,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, tasks: Tasks = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """Export verified trajectories for training (sft, rl) or in another tool-call format."""
        params = dict(locals())
        from synth.engine import run_job
        from synth.pipelines.trajectories.build import export_job

        check_format(fmt)
        return run_job(export_job(params, shaping_config(params)), runtime(params))
