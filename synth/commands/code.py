"""`synth generate code` and `synth reward code`: verified code problems, and the gated reward.

    synth generate code --seeds FILE --num N --out DIR [--teacher none]
    synth generate code --seeds FILE --num N --out DIR --teacher SPEC [--model NAME] [--reverse]
        [--agreement K] [--llm-complexity]
    synth reward code --problems P --completions C --out DIR

The logic lives in pipelines/code (steps.py: the engine steps and jobs; build.py, teacher_task.py, reward.py);
this module only declares the options and wires them to a job.
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command, runtime
from synth.options import RunOptions, Sandboxed, flag, like, options, shaping
from synth.teachers.flags import TeacherFlags

WITH_TEACHER = "With a teacher"


@options
class GenerateCodeOptions(TeacherFlags, Sandboxed, RunOptions):
    seeds: Path = flag(help="JSONL of seed problems (see examples/code_seeds.jsonl).", cli=("--seeds",))
    num: int = flag(1000, "Problems to make (without a teacher: at most one per seed; with one, seeds are reused in "
                    "turn).", cli=("--num",), min=1)
    reverse: bool = flag(False, f"{WITH_TEACHER}: solution and tests first, the statement last.", cli=("--reverse",))
    agreement: int = flag(0, f"{WITH_TEACHER} (evolve): K independent teacher solutions vote on every test; disputed "
                          "tests are dropped.", cli=("--agreement",), min=0, metavar="K")
    agreement_quorum: float = flag(0.5, "Keep a test when more than this share of all solutions (reference "
                                   "included) agree on its output.", min=0.0, max=1.0)
    llm_complexity: bool = flag(False, f"{WITH_TEACHER}: also ask for the class (stored as complexity.predicted "
                                "beside the measured one).", cli=("--llm-complexity",))
    temperature: float = like(TeacherFlags, "temperature", 0.8)
    max_tokens: int = like(TeacherFlags, "max_tokens", 2048)
    max_concurrency: int = like(TeacherFlags, "max_concurrency", 16)
    generated_tests: int = flag(24, "Inputs drawn from each generator program.")
    hypothesis_tests: int = flag(16, "Inputs drawn from Hypothesis strategies (typed signatures).")
    min_tests: int = flag(5, "Reject problems with fewer surviving tests.")
    max_tests: int = flag(40, "Keep at most this many tests per problem.")
    max_mutants: int = flag(30, "Mutants of the reference run per problem.")
    min_mutation_score: float = flag(0.8, "Reject test sets below this mutation score.")
    complexity: bool = flag(True, "Measure the reference's complexity class.", cli=("--complexity/--no-complexity",))
    complexity_counter: str = flag("auto", "What the reference's profile counts: instructions (exact; needs "
                                   "valgrind), time (CPU seconds), or auto (instructions where valgrind is "
                                   "installed).", cli=("--complexity-counter",))


@options
class RewardCodeOptions(Sandboxed, RunOptions):
    problems: list[Path] = flag(help="code_problem dataset dir(s) or files.", cli=("--problems",))
    completions: Path = flag(help="JSONL of {problem_id, completion, id?}.", cli=("--completions",))
    format_weight: float = flag(1.0, "Weight of R_format.")
    correct_weight: float = flag(1.0, "Weight of R_correct.")
    time_weight: float = flag(1.0, "Weight of R_time (granted only when all tests pass).")
    all_or_nothing: bool = flag(False, "R_correct is 1 only when every test passes.")
    violations: str = flag("penalize", "penalize: a policy hit (audit hook) zeroes the reward; ignore: only "
                           "recorded.")


def generate(opts: GenerateCodeOptions) -> dict:
    """Verified code problems: sandboxed tests, mutation adequacy, measured complexity class."""
    from synth.engine import run_job
    from synth.errors import UserError
    from synth.pipelines.code.build import reference_profile
    from synth.pipelines.code.problems import read_seeds
    from synth.pipelines.code.steps import generate_job, teacher_code_job
    from synth.teachers.flags import teacher_from

    reference_profile(opts.complexity_counter)  # an unknown or unavailable counter: exit 2 before any work
    chosen = teacher_from(opts)
    count = sum(1 for _ in read_seeds(opts.seeds))  # validates every seed first: bad input -> exit 2
    if chosen.spec.kind != "none":
        return run_job(teacher_code_job(opts, shaping(opts), chosen, count), runtime(opts))
    if opts.reverse or opts.agreement or opts.llm_complexity:
        raise UserError("--reverse, --agreement and --llm-complexity need a teacher (--teacher SPEC)")
    return run_job(generate_job(opts, shaping(opts), count), runtime(opts))


def reward(opts: RewardCodeOptions) -> dict:
    """Score completions with the gated complexity-aware reward."""
    from synth.engine import run_job
    from synth.pipelines.code.steps import reward_job

    _check_completions(opts.completions)
    if opts.violations not in ("penalize", "ignore"):
        from synth.errors import UserError

        raise UserError(f"--violations must be penalize or ignore, not {opts.violations!r}")
    return run_job(reward_job(opts, shaping(opts)), runtime(opts))


def _check_completions(path: Path) -> None:
    """Every completion row needs problem_id and completion: one clear line otherwise (exit 2)."""
    from synth.dataset import iter_rows
    from synth.errors import InputError

    for row in iter_rows([path]):
        for key in ("problem_id", "completion"):
            if row.record.get(key) in (None, ""):
                raise InputError(str(row.path), row.row, "is required", key)


def register_generate(app: typer.Typer) -> None:
    command(app, "code", GenerateCodeOptions, generate)


def register_reward(app: typer.Typer) -> None:
    command(app, "code", RewardCodeOptions, reward)
