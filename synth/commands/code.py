"""`synth generate code` and `synth reward code`: verified code problems, and the gated reward.

    synth generate code --seeds FILE --num N --out DIR [--teacher none]
    synth generate code --seeds FILE --num N --out DIR --teacher SPEC [--model NAME] [--reverse]
        [--agreement K] [--llm-complexity]
    synth reward code --problems P --completions C --out DIR

The logic lives in pipelines/code (build.py, teacher_task.py, reward.py); this module only wires flags to a `Job`.
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
from synth.records import Reject, record_text
from synth.steps import RecordStep
from synth.teachers.flags import (
    TEACHER_RUNTIME,
    MaxConcurrency,
    MaxTokens,
    ModelFlag,
    TeacherFlag,
    Temperature,
)

SandboxBackend = Annotated[str | None, typer.Option(
    "--sandbox", help="bwrap | unshare | rlimits (default: the strongest that works here).")]
SandboxWorkers = Annotated[int, typer.Option("--sandbox-workers", min=1, help="Sandboxed processes per task at once.")]


class SeedItems:
    """make_item for the engine: item i -> the i-th seed of the file (picklable; loads lazily)."""

    def __init__(self, path: str):
        self.path, self._seeds = path, None

    def __call__(self, index: int) -> dict:
        if self._seeds is None:
            import json

            with open(self.path, encoding="utf-8") as fh:
                self._seeds = [(n, json.loads(line)) for n, line in enumerate(fh, 1) if line.strip()]
        line, raw = self._seeds[index]
        return {"seed": raw, "line": line}


class BuildProblems(RecordStep):
    """Seed item -> code_problem record, or a reject (too_few_tests, weak_tests, ...)."""

    name = "build code problem"
    text = staticmethod(record_text)  # Document.text = the statement (what dedup/decontam compare)
    def __init__(self, seeds_path: str, config: dict, backend: str | None, sandbox_workers: int, seed: int):
        super().__init__()
        self.seeds_path, self.config, self.backend = seeds_path, config, backend
        self.sandbox_workers, self.seed = sandbox_workers, seed

    def setup(self, rank: int, world_size: int) -> None:
        from synth.sandbox import Sandbox

        self.box = Sandbox(backend=self.backend, workers=self.sandbox_workers)

    def process(self, item: dict) -> dict | Reject:
        from synth.manifest import synth_version
        from synth.pipelines.code.build import build_problem
        from synth.pipelines.code.problems import parse_seed

        seed = parse_seed(item["seed"], self.seeds_path, item["line"])
        provenance = {"command": "generate code", "seed": self.seed, "seed_id": seed.id,
                      "synth_version": synth_version()}
        return build_problem(self.box, seed, build_config(self.config), provenance)


def build_config(config: dict):
    from synth.pipelines.code.build import BuildConfig, reference_profile
    from synth.pipelines.code.mutation import MutationConfig
    from synth.pipelines.code.testgen import TestConfig

    return BuildConfig(tests=TestConfig(generated=config["generated_tests"], hypothesis=config["hypothesis_tests"],
                                        min_tests=config["min_tests"], max_tests=config["max_tests"],
                                        seed=config["seed"]),
                       mutation=MutationConfig(max_mutants=config["max_mutants"], min_score=config["min_mutation_score"],
                                               seed=config["seed"]),
                       profile=reference_profile(config.get("complexity_counter", "auto")),
                       measure_complexity=config["complexity"])


class ScoreCompletions(RecordStep):
    """Completion record {problem_id, completion, id?} -> code_reward record."""

    name = "score completion"

    def __init__(self, problems: list[str], config: dict, backend: str | None, sandbox_workers: int):
        super().__init__()
        self.problem_paths, self.config = problems, config
        self.backend, self.sandbox_workers = backend, sandbox_workers

    def setup(self, rank: int, world_size: int) -> None:
        from synth.dataset import read_records
        from synth.sandbox import Sandbox

        self.problems = {p["id"]: p for p in read_records(self.problem_paths, "code_problem")}
        self.box = Sandbox(backend=self.backend, workers=self.sandbox_workers)

    def process(self, record: dict) -> dict | Reject:
        from synth.pipelines.code.reward import RewardConfig, reward

        problem = self.problems.get(str(record.get("problem_id")))
        if problem is None:
            return Reject("unknown_problem", f"no problem with id {record.get('problem_id')!r}")
        cfg = RewardConfig(format_weight=self.config["format_weight"], correct_weight=self.config["correct_weight"],
                           time_weight=self.config["time_weight"], all_or_nothing=self.config["all_or_nothing"],
                           violations=self.config.get("violations", "penalize"))
        try:
            result = reward(problem, record.get("completion"), cfg, self.box)
        except RuntimeError as exc:  # SandboxFailure, the only error reward() raises: not the completion's fault
            return Reject("sandbox_infra_error", str(exc)[:300])
        d = result["details"]
        return {"id": str(record.get("id") or f"{problem['id']}:{record.get('index', 0)}"),
                "problem_id": problem["id"], "format": result["format"], "correctness": result["correctness"],
                "time": result["time"], "total": result["total"], "passed": d["passed"], "tests": d["tests"],
                "verdicts": d["verdicts"], "completion_class": d["completion_class"],
                "reference_class": d["reference_class"], "format_error": d["format_error"],
                "violations": d["violations"], "time_failure": d["time_failure"]}


def _check_completions(path: Path) -> None:
    """Every completion row needs problem_id and completion: one clear line otherwise (exit 2)."""
    from synth.dataset import iter_rows
    from synth.errors import InputError

    for row in iter_rows([path]):
        for key in ("problem_id", "completion"):
            if row.record.get(key) in (None, ""):
                raise InputError(str(row.path), row.row, "is required", key)


def register_generate(app: typer.Typer) -> None:
    @app.command("code")
    @synth_command
    def generate_code(
        ctx: typer.Context,
        seeds: Annotated[Path, typer.Option("--seeds", help="JSONL of seed problems (see examples/code_seeds.jsonl).")],
        out: Out,
        num: Annotated[int, typer.Option("--num", min=1, help="Problems to make (without a teacher: at most one per seed; with one, seeds are reused in turn).")] = 1000,
        teacher: TeacherFlag = "none", model: ModelFlag = None,
        reverse: Annotated[bool, typer.Option("--reverse", help="With a teacher: solution and tests first, the statement last.")] = False,
        agreement: Annotated[int, typer.Option("--agreement", min=0, metavar="K", help="With a teacher (evolve): K independent "
                                               "teacher solutions vote on every test; disputed tests are dropped.")] = 0,
        agreement_quorum: Annotated[float, typer.Option(min=0.0, max=1.0, help="Keep a test when more than this share of "
                                                        "all solutions (reference included) agree on its output.")] = 0.5,
        llm_complexity: Annotated[bool, typer.Option("--llm-complexity", help="With a teacher: also ask for the class "
                                                     "(stored as complexity.predicted beside the measured one).")] = False,
        temperature: Temperature = 0.8, max_tokens: MaxTokens = 2048,
        max_concurrency: MaxConcurrency = 16,
        generated_tests: Annotated[int, typer.Option(help="Inputs drawn from each generator program.")] = 24,
        hypothesis_tests: Annotated[int, typer.Option(help="Inputs drawn from Hypothesis strategies (typed signatures).")] = 16,
        min_tests: Annotated[int, typer.Option(help="Reject problems with fewer surviving tests.")] = 5,
        max_tests: Annotated[int, typer.Option(help="Keep at most this many tests per problem.")] = 40,
        max_mutants: Annotated[int, typer.Option(help="Mutants of the reference run per problem.")] = 30,
        min_mutation_score: Annotated[float, typer.Option(help="Reject test sets below this mutation score.")] = 0.8,
        complexity: Annotated[bool, typer.Option("--complexity/--no-complexity", help="Measure the reference's complexity class.")] = True,
        complexity_counter: Annotated[str, typer.Option(
            "--complexity-counter", help="What the reference's profile counts: instructions (exact; needs valgrind), "
            "time (CPU seconds), or auto (instructions where valgrind is installed).")] = "auto",
        sandbox: SandboxBackend = None, sandbox_workers: SandboxWorkers = 2, seed: Seed = 0,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, tasks: Tasks = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """Verified code problems: sandboxed tests, mutation adequacy, measured complexity class."""
        params = dict(locals())
        from synth.engine import Job, run_job
        from synth.errors import UserError
        from synth.pipelines.code.build import reference_profile
        from synth.pipelines.code.problems import read_seeds
        from synth.teachers.flags import teacher_from_params

        reference_profile(complexity_counter)  # an unknown or unavailable counter: exit 2 before any work
        chosen = teacher_from_params(params)
        count = sum(1 for _ in read_seeds(seeds))  # validates every seed first: bad input -> exit 2
        if chosen.spec.kind != "none":
            return run_job(teacher_code_job(params, chosen, count), runtime(params))
        if reverse or agreement or llm_complexity:
            raise UserError("--reverse, --agreement and --llm-complexity need a teacher (--teacher SPEC)")
        job = Job(command="generate code", out=out, kind="code_problem",
                  config=shaping_config(params, "sandbox", "sandbox_workers", *TEACHER_RUNTIME), inputs=[str(seeds)],
                  items=min(num, count), make_item=SeedItems(str(seeds)),
                  steps=[BuildProblems(str(seeds), shaping_config(params), sandbox, sandbox_workers, seed)],
                  chunk_size=8)
        return run_job(job, runtime(params))


def teacher_code_job(params: dict, chosen, count: int):
    """The teacher flows (pipelines/code/teacher_task.py): --num problems, item i from seed i mod #seeds."""
    from synth.engine import Job
    from synth.errors import UserError
    from synth.manifest import synth_version
    from synth.pipelines.code.teacher_task import CodeTeacherConfig, CodeTeacherTask, TeacherSeedItems
    from synth.teachers.job import teacher_job
    from synth.teachers.preflight import preflight

    if params["reverse"] and params["agreement"]:
        raise UserError("--agreement needs the statement before the tests: use it without --reverse")
    chosen = preflight(chosen)
    cfg = CodeTeacherConfig(build=build_config(shaping_config(params)), reverse=params["reverse"],
                            agreement=params["agreement"], quorum=params["agreement_quorum"],
                            llm_complexity=params["llm_complexity"], sandbox=params["sandbox"],
                            sandbox_workers=params["sandbox_workers"])
    provenance = {"command": "generate code", "teacher": chosen.label, "seed": params["seed"],
                  "synth_version": synth_version()}
    summary = chosen.describe()
    return Job(command="generate code", out=params["out"], kind="code_problem",
               config=shaping_config(params, "sandbox", "sandbox_workers", *TEACHER_RUNTIME),
               inputs=[str(params["seeds"])], items=params["num"], make_item=TeacherSeedItems(str(params["seeds"])),
               chunk_size=8, stats=lambda _out: {"teacher": summary, "seeds": count},
               **teacher_job(CodeTeacherTask(cfg, provenance), chosen))


def register_reward(app: typer.Typer) -> None:
    @app.command("code")
    @synth_command
    def reward_code(
        ctx: typer.Context,
        problems: Annotated[list[Path], typer.Option("--problems", help="code_problem dataset dir(s) or files.")],
        completions: Annotated[Path, typer.Option("--completions", help="JSONL of {problem_id, completion, id?}.")],
        out: Out,
        format_weight: Annotated[float, typer.Option(help="Weight of R_format.")] = 1.0,
        correct_weight: Annotated[float, typer.Option(help="Weight of R_correct.")] = 1.0,
        time_weight: Annotated[float, typer.Option(help="Weight of R_time (granted only when all tests pass).")] = 1.0,
        all_or_nothing: Annotated[bool, typer.Option(help="R_correct is 1 only when every test passes.")] = False,
        violations: Annotated[str, typer.Option(help="penalize: a policy hit (audit hook) zeroes the reward; "
                                                     "ignore: only recorded.")] = "penalize",
        sandbox: SandboxBackend = None, sandbox_workers: SandboxWorkers = 2,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, tasks: Tasks = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """Score completions with the gated complexity-aware reward."""
        params = dict(locals())
        from synth.engine import Job, run_job

        _check_completions(completions)
        if violations not in ("penalize", "ignore"):
            from synth.errors import UserError

            raise UserError(f"--violations must be penalize or ignore, not {violations!r}")
        job = Job(command="reward code", out=out, kind="code_reward",
                  config=shaping_config(params, "sandbox", "sandbox_workers"), inputs=[str(completions)],
                  steps=[ScoreCompletions([str(p) for p in problems], shaping_config(params), sandbox, sandbox_workers)],
                  chunk_size=16)
        return run_job(job, runtime(params))
