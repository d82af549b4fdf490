"""`synth generate deepsearch --corpus CORPUS --num N --out DIR`: verified multi-hop deep-search tasks.

Each of the N work items becomes one task (or one reject): a seed entity from the plan (time window,
rarity band, specificity, category balance), a grounded walk over the corpus link graph, a formal
question, a template question with rule operators (or an LLM question with a teacher), and the
verification gauntlet. With a teacher also the closed-book and tool-using solvers, the difficulty tier
and the dial. See pipelines/deepsearch/__init__.py.
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command, runtime
from synth.options import RunOptions, chunk_size, flag, options, shaping
from synth.teachers.flags import TeacherFlags

TEACHER_ONLY = "(teacher only)"


@options
class DeepsearchOptions(TeacherFlags, RunOptions):
    corpus: Path = flag(help="CORPUS directory from `synth corpus build`.", cli=("--corpus",))
    num: int = flag(100, "Work items; each yields one task or one reject.", cli=("--num",), min=1)
    hops: str = flag("2-4", "Link hops per question, LO-HI (depth >= LO).", cli=("--hops",))
    since: str | None = flag(None, "Seeds updated on/after YYYY-MM-DD.", cli=("--since",))
    seed_in_degree: str = flag("0-40", "Rarity band: in-links of a seed, LO-HI.", cli=("--seed-in-degree",))
    seed_chars: str = flag("120-6000", "Length band of a seed's text, LO-HI.", cli=("--seed-chars",))
    backoff: float = flag(0.35, "Walk: chance to branch from an earlier node (trees).", cli=("--backoff",), min=0.0,
                          max=1.0)
    cycle: float = flag(0.4, "Walk: chance to close a cycle.", cli=("--cycle",), min=0.0, max=1.0)
    max_in_degree: int = flag(60, "Walk: skip objects linked from more entries (hubs).", cli=("--max-in-degree",),
                              min=1)
    partial: float = flag(0.5, "Chance a proper name in a description becomes partial.", cli=("--partial",), min=0.0,
                          max=1.0)
    shortcut_k: int = flag(10, "BM25 with the whole question must not rank the answer in this top k.",
                           cli=("--shortcut-k",), min=1)
    attempts: int = flag(64, "Candidates an item may try before it is rejected (the honest-solver gate and climbable "
                         "walks refuse many).", cli=("--attempts",), min=1)
    honest_gate: bool = flag(True, "--teacher none: keep only tasks the honest search solver of `generate "
                             "trajectories` answers from the question and tool results (others: retried, then "
                             "rejected not_honestly_solvable).", cli=("--honest-gate/--no-honest-gate",))
    target_band: str = flag("0.2:0.8", f"Pass-rate band of the rl tier, LO:HI {TEACHER_ONLY}.", cli=("--target-band",))
    max_rounds: int = flag(2, f"Difficulty-dial rounds per task {TEACHER_ONLY}.", cli=("--max-rounds",), min=0)
    closed_book_tries: int = flag(3, f"Closed-book answers that must all be wrong {TEACHER_ONLY}.",
                                  cli=("--closed-book-tries",), min=0)
    rollouts: int = flag(4, f"Tool-using solver rollouts per task {TEACHER_ONLY}.", cli=("--rollouts",), min=0)
    max_turns: int = flag(12, f"Turns per solver rollout {TEACHER_ONLY}.", cli=("--max-turns",), min=1)
    min_solver_params: str | None = flag(None, "Refuse hard/rl tiers measured by a solver smaller than this (e.g. 7B; "
                                         "unknown sizes are refused too): such tasks get tier unverified "
                                         f"{TEACHER_ONLY}.", cli=("--min-solver-params",))
    solver_params: str | None = flag(None, "The solver's parameter count (e.g. 70B) when the teacher is an endpoint; a "
                                     f"vllm:DIR folder is counted {TEACHER_ONLY}.", cli=("--solver-params",))
    from_failures: Path | None = flag(None, "A `synth eval deepsearch` output: seed from the entities the model failed "
                                      "on, hops/topologies weighted by its failure rates.", cli=("--from-failures",))
    chunk_size: int = chunk_size(64, "Items")


def run(opts: DeepsearchOptions) -> dict:
    """Generate verified multi-hop deep-search tasks from grounded walks over a corpus."""
    from synth.engine import run_job
    from synth.pipelines.deepsearch.build import build_job

    return run_job(build_job(opts, shaping(opts)), runtime(opts))


def register(app: typer.Typer) -> None:
    command(app, "deepsearch", DeepsearchOptions, run)
