"""`synth generate trajectories` (agent rollouts or gold paths over deep-search tasks) and
`synth export trajectories` (sft / rl / tool-call formats). Logic: pipelines/trajectories/ (build.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command, runtime
from synth.options import Formatted, RunOptions, chunk_size, flag, options, shaping
from synth.teachers.flags import TeacherFlags

POLICY_HELP = ("full | keep_last_k:K (older tool results become a placeholder) | summary[:K] (older turns "
               "summarized, K recent turns kept).")


@options
class AgentFlags(TeacherFlags, Formatted, RunOptions):
    """What an agent over a corpus needs (synth generate trajectories, synth eval deepsearch)."""

    tasks: list[Path] = flag(help="deepsearch_task dataset(s) (synth generate deepsearch).", cli=("--tasks",))
    corpus: Path = flag(help="CORPUS the tasks were built on (synth corpus build).", cli=("--corpus",))
    max_turns: int = flag(64, "Model turns per rollout (the paper: up to 600).", cli=("--max-turns",), min=1)
    context_policy: str = flag("full", POLICY_HELP, cli=("--context-policy",))
    tools: str = flag("search,open,visit", "Environment tools offered: comma list of search, open, visit (visit "
                      "reads passages with MiniLM).", cli=("--tools",))
    tool_format: str = flag("hermes", "How the teacher sees tools and calls: hermes (Qwen <tool_call> text) | openai "
                            "(native tools) | mcp_xml (MiroThinker).", cli=("--tool-format",))
    constrain_calls: bool = flag(False, "vLLM teachers: regex-constrain every turn to one well-formed call or an "
                                 "answer (small or untrained models).", cli=("--constrain-calls",))
    chunk_size: int = chunk_size(16, "Tasks")


@options
class TrajectoriesOptions(AgentFlags):
    rollouts: int = flag(1, "Rollouts per task.", cli=("--rollouts",), min=1)
    keep: str = flag("best", "best (the passing rollout with the fewest calls) | correct (every passing rollout) | "
                     "all (no filtering).", cli=("--keep",))
    judge: str = flag("rule", "Answer judge: rule (normalized exact / alias) | llm (rule, then the teacher under a "
                      "JSON schema).", cli=("--judge",))
    min_tool_calls: int = flag(1, "Filter: fewer calls is a reject.", cli=("--min-tool-calls",), min=0)
    max_identical_calls: int = flag(2, "Filter: an identical call more often (or twice in a row) is a reject; 0: "
                                    "only in a row.", cli=("--max-identical-calls",), min=0)
    token_budget: int = flag(0, "Filter: longer trajectories are rejects (estimated tokens; 0: no limit).",
                             cli=("--token-budget",), min=0)


@options
class ExportOptions(Formatted, RunOptions):
    inputs: list[Path] = flag(help="Trajectory datasets (or deepsearch tasks for --to rl).", argument=True)
    to: str = flag("sft", "sft | trl (tokenized for TRL SFTTrainer) | rl | openai | hermes | mcp_xml.", cli=("--to",))
    tokenizer: Path | None = flag(None, "trl: a local HF tokenizer folder with a chat template.", cli=("--tokenizer",))
    max_len: int = flag(32768, "trl: longest row in tokens (longer: reject).", cli=("--max-len",), min=16)
    reasoning_loss: int | None = flag(None, "sft/trl: 1 trains reasoning with its message's loss, 0 keeps it as "
                                      "context only (per message: `reasoning_loss`; default: as the records say).",
                                      cli=("--reasoning-loss",))
    context_policy: str = flag("full", "sft: comma list of policies, one variant each (full, keep_last_k:K, "
                               "summary[:K]).", cli=("--context-policy",))
    unverified: bool = flag(False, "Also export trajectories whose answer is wrong or unjudged, or whose format is "
                            "broken.", cli=("--unverified",))
    corpus: Path | None = flag(None, "rl from deepsearch tasks: the environment's corpus.", cli=("--corpus",))
    max_turns: int = flag(64, "rl from deepsearch tasks: turn limit of the environment.", cli=("--max-turns",), min=1)
    chunk_size: int = chunk_size(256, "Records")


def generate(opts: TrajectoriesOptions) -> dict:
    """Agent trajectories over deep-search tasks: teacher rollouts, or gold paths with --teacher none."""
    from synth.engine import run_job
    from synth.pipelines.trajectories.build import generate_job

    return run_job(generate_job(opts, shaping(opts)), runtime(opts))


def export(opts: ExportOptions) -> dict:
    """Export verified trajectories for training (sft, rl) or in another tool-call format."""
    from synth.engine import run_job
    from synth.pipelines.trajectories.build import export_job

    return run_job(export_job(opts, shaping(opts)), runtime(opts))


def register_generate(app: typer.Typer) -> None:
    command(app, "trajectories", TrajectoriesOptions, generate)


def register_export(app: typer.Typer) -> None:
    command(app, "trajectories", ExportOptions, export)
