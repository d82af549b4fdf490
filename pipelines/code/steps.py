"""The engine steps and jobs of `synth generate code` and `synth reward code` (the commands only wire flags).

    generate_job(opts, count)   --teacher none: one problem per seed, built and verified in the sandbox
    teacher_job_of(opts, ...)   with a teacher: the flows of teacher_task.py, --num problems
    reward_job(opts)            completions scored with the gated complexity-aware reward
"""

from __future__ import annotations

from synth.records import Reject, record_text
from synth.steps import RecordStep

COMMAND = "generate code"


class SeedItems:
    """make_item for the engine: item i -> the i-th seed of the file (picklable; loads lazily, as
    teacher_task.TeacherSeedItems, which reuses the seeds in turn)."""

    def __init__(self, path: str):
        self.path, self._seeds = path, None

    def __call__(self, index: int) -> dict:
        from synth.pipelines.code.teacher_task import read_seed_lines

        self._seeds = self._seeds or read_seed_lines(self.path)
        line, raw = self._seeds[index]
        return {"seed": raw, "line": line}


class _SandboxStep(RecordStep):
    """A step that runs code: one sandbox per task, opened in setup (workers are forked or remote)."""

    def __init__(self, opts):
        super().__init__()
        self.opts = opts

    def setup(self, rank: int, world_size: int) -> None:
        from synth.sandbox import Sandbox

        self.box = Sandbox(backend=self.opts.sandbox, workers=self.opts.sandbox_workers)


class BuildProblems(_SandboxStep):
    """Seed item -> code_problem record, or a reject (too_few_tests, weak_tests, ...)."""

    name = "build code problem"
    text = staticmethod(record_text)  # Document.text = the statement (what dedup/decontam compare)

    def process(self, item: dict) -> dict | Reject:
        from synth.pipelines.code.build import build_problem
        from synth.pipelines.code.problems import parse_seed

        from synth.manifest import synth_version

        seeds_path = str(self.opts.seeds)
        seed = parse_seed(item["seed"], seeds_path, item["line"])
        provenance = {"command": COMMAND, "seed": self.opts.seed, "seed_id": seed.id, "synth_version": synth_version()}
        return build_problem(self.box, seed, build_config(self.opts), provenance)


def build_config(opts):
    from synth.pipelines.code.build import BuildConfig, reference_profile
    from synth.pipelines.code.mutation import MutationConfig
    from synth.pipelines.code.testgen import TestConfig

    return BuildConfig(tests=TestConfig(generated=opts.generated_tests, hypothesis=opts.hypothesis_tests,
                                        min_tests=opts.min_tests, max_tests=opts.max_tests, seed=opts.seed),
                       mutation=MutationConfig(max_mutants=opts.max_mutants, min_score=opts.min_mutation_score,
                                               seed=opts.seed),
                       profile=reference_profile(opts.complexity_counter), measure_complexity=opts.complexity)


class ScoreCompletions(_SandboxStep):
    """Completion record {problem_id, completion, id?} -> code_reward record."""

    name = "score completion"

    def setup(self, rank: int, world_size: int) -> None:
        from synth.dataset import read_records

        self.problems = {p["id"]: p for p in read_records([str(p) for p in self.opts.problems], "code_problem")}
        super().setup(rank, world_size)

    def process(self, record: dict) -> dict | Reject:
        from synth.pipelines.code.reward import RewardConfig, reward

        problem = self.problems.get(str(record.get("problem_id")))
        if problem is None:
            return Reject("unknown_problem", f"no problem with id {record.get('problem_id')!r}")
        o = self.opts
        cfg = RewardConfig(format_weight=o.format_weight, correct_weight=o.correct_weight, time_weight=o.time_weight,
                           all_or_nothing=o.all_or_nothing, violations=o.violations)
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


def generate_job(opts, config: dict, count: int):
    """--teacher none: at most one problem per seed."""
    from synth.engine import Job

    return Job(command=COMMAND, out=opts.out, kind="code_problem", config=config, inputs=[str(opts.seeds)],
               items=min(opts.num, count), make_item=SeedItems(str(opts.seeds)), steps=[BuildProblems(opts)],
               chunk_size=8)


def teacher_code_job(opts, config: dict, chosen, count: int):
    """The teacher flows (pipelines/code/teacher_task.py): --num problems, item i from seed i mod #seeds."""
    from synth.pipelines.code.teacher_task import CodeTeacherConfig, CodeTeacherTask, TeacherSeedItems

    from synth.engine import Job
    from synth.errors import UserError
    from synth.manifest import synth_version
    from synth.teachers.job import teacher_job
    from synth.teachers.preflight import preflight

    if opts.reverse and opts.agreement:
        raise UserError("--agreement needs the statement before the tests: use it without --reverse")
    chosen = preflight(chosen)
    cfg = CodeTeacherConfig(build=build_config(opts), reverse=opts.reverse, agreement=opts.agreement,
                            quorum=opts.agreement_quorum, llm_complexity=opts.llm_complexity, sandbox=opts.sandbox,
                            sandbox_workers=opts.sandbox_workers)
    provenance = {"command": COMMAND, "teacher": chosen.label, "seed": opts.seed, "synth_version": synth_version()}
    summary = chosen.describe()
    return Job(command=COMMAND, out=opts.out, kind="code_problem", config=config, inputs=[str(opts.seeds)],
               items=opts.num, make_item=TeacherSeedItems(str(opts.seeds)), chunk_size=8,
               stats=lambda _out: {"teacher": summary, "seeds": count},
               **teacher_job(CodeTeacherTask(cfg, provenance), chosen))


def reward_job(opts, config: dict):
    from synth.engine import Job

    return Job(command="reward code", out=opts.out, kind="code_reward", config=config,
               inputs=[str(opts.completions)], steps=[ScoreCompletions(opts)], chunk_size=16)
