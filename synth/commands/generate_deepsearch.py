"""`synth generate deepsearch --corpus CORPUS --num N --out DIR`: verified multi-hop deep-search tasks.

Each of the N work items becomes one task (or one reject): a seed entity from the plan (time window,
rarity band, specificity, category balance), a grounded walk over the corpus link graph, a formal
question, a template question with rule operators (or an LLM question with a teacher), and the
verification gauntlet. With a teacher also the closed-book and tool-using solvers, the difficulty tier
and the dial. See pipelines/deepsearch/__init__.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synth.cli_common import (
    ConfigFile,
    Executor,
    Force,
    JsonOut,
    Out,
    RayAddress,
    Seed,
    SlurmPartition,
    SlurmTime,
    Tasks,
    Workers,
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

CorpusDir = Annotated[Path, typer.Option("--corpus", help="CORPUS directory from `synth corpus build`.")]


def register(app: typer.Typer) -> None:
    @app.command("deepsearch")
    @synth_command
    def deepsearch(
        ctx: typer.Context,
        corpus: CorpusDir,
        out: Out,
        num: Annotated[int, typer.Option("--num", min=1, help="Work items; each yields one task or one reject.")] = 100,
        seed: Seed = 0,
        hops: Annotated[str, typer.Option("--hops", help="Link hops per question, LO-HI (depth >= LO).")] = "2-4",
        since: Annotated[str | None, typer.Option("--since", help="Seeds updated on/after YYYY-MM-DD.")] = None,
        seed_in_degree: Annotated[str, typer.Option("--seed-in-degree", help="Rarity band: in-links of a seed, LO-HI.")] = "0-40",
        seed_chars: Annotated[str, typer.Option("--seed-chars", help="Length band of a seed's text, LO-HI.")] = "120-6000",
        backoff: Annotated[float, typer.Option("--backoff", min=0.0, max=1.0, help="Walk: chance to branch from an earlier node (trees).")] = 0.35,
        cycle: Annotated[float, typer.Option("--cycle", min=0.0, max=1.0, help="Walk: chance to close a cycle.")] = 0.4,
        max_in_degree: Annotated[int, typer.Option("--max-in-degree", min=1, help="Walk: skip objects linked from more entries (hubs).")] = 60,
        partial: Annotated[float, typer.Option("--partial", min=0.0, max=1.0, help="Chance a proper name in a description becomes partial.")] = 0.5,
        shortcut_k: Annotated[int, typer.Option("--shortcut-k", min=1, help="BM25 with the whole question must not rank the answer in this top k.")] = 10,
        attempts: Annotated[int, typer.Option("--attempts", min=1, help="Candidates an item may try before it is rejected (the honest-solver gate and climbable walks refuse many).")] = 64,
        honest_gate: Annotated[bool, typer.Option("--honest-gate/--no-honest-gate", help="--teacher none: keep only tasks the honest search solver of `generate trajectories` answers from the question and tool results (others: retried, then rejected not_honestly_solvable).")] = True,
        target_band: Annotated[str, typer.Option("--target-band", help="Pass-rate band of the rl tier, LO:HI (teacher only).")] = "0.2:0.8",
        max_rounds: Annotated[int, typer.Option("--max-rounds", min=0, help="Difficulty-dial rounds per task (teacher only).")] = 2,
        closed_book_tries: Annotated[int, typer.Option("--closed-book-tries", min=0, help="Closed-book answers that must all be wrong (teacher only).")] = 3,
        rollouts: Annotated[int, typer.Option("--rollouts", min=0, help="Tool-using solver rollouts per task (teacher only).")] = 4,
        max_turns: Annotated[int, typer.Option("--max-turns", min=1, help="Turns per solver rollout (teacher only).")] = 12,
        min_solver_params: Annotated[str | None, typer.Option("--min-solver-params", help="Refuse hard/rl tiers measured by a "
                                     "solver smaller than this (e.g. 7B; unknown sizes are refused too): such tasks get tier "
                                     "unverified (teacher only).")] = None,
        solver_params: Annotated[str | None, typer.Option("--solver-params", help="The solver's parameter count (e.g. 70B) "
                                 "when the teacher is an endpoint; a vllm:DIR folder is counted (teacher only).")] = None,
        from_failures: Annotated[Path | None, typer.Option("--from-failures", help="A `synth eval deepsearch` output: seed "
                                 "from the entities the model failed on, hops/topologies weighted by its failure rates.")] = None,
        teacher: TeacherFlag = "none", model: ModelFlag = None, temperature: Temperature = 0.7,
        max_tokens: MaxTokens = 1024,
        chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Items per commit (the resume unit).")] = 64,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, tasks: Tasks = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """Generate verified multi-hop deep-search tasks from grounded walks over a corpus."""
        params = dict(locals())  # first statement: exactly the (config-merged) flags
        from synth.pipelines.deepsearch.build import build_job

        job = build_job(params, shaping_config(params, *TEACHER_RUNTIME))
        from synth.engine import run_job

        return run_job(job, runtime(params))
