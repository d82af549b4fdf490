"""`synth generate code --teacher SPEC`: the teacher writes problems, the sandbox verifies every part of them.

One work item = one seed (item i uses seed i mod #seeds, so --num may exceed the seed count) -> one
`code_problem` record or one reject. The flows (prompts and parsers: pipelines/code/teacher.py):

    evolve   evolve_messages -> parse_problem -> [K solve_messages: agreement] -> build_problem (sandbox)
    reverse  reverse_messages -> parse_problem -> build_problem -> statement_messages -> parse_statement
    either   [complexity_messages -> parse_complexity -> complexity.predicted]

The sandbox work runs in the teacher session's tool pool through `session.tool`, so it leaves the event
loop free for other records' requests, and a resumed run replays finished builds from the request cache.
Teacher replies are parsed by the pure parsers, so a malformed reply is `teacher_parse_error` (or
`teacher_schema_violation`, `teacher_invalid_problem`) with the raw text kept in the reject.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from synth.pipelines.code import teacher as prompts
from synth.pipelines.code.build import BuildConfig
from synth.pipelines.code.problems import Seed, parse_seed

from synth import schemas
from synth.records import Reject
from synth.sandbox.holder import SandboxHolder
from synth.teachers import structured
from synth.teachers.errors import TeacherError
from synth.teachers.tasks import Dropped, TeacherTask

COMMAND = "generate code"
RESAMPLE = frozenset({"teacher_parse_error", "teacher_schema_violation"})  # worth another sample
PROBLEM, STATEMENT, COMPLEXITY = "code_teacher_problem", "code_teacher_statement", "code_teacher_complexity"


@dataclass(frozen=True)
class CodeTeacherConfig:
    build: BuildConfig
    reverse: bool = False
    agreement: int = 0            # K independent teacher solutions vote on every test (0: off)
    quorum: float = 0.5           # a test is kept when more than this share of all solutions agree
    llm_complexity: bool = False  # ask the teacher for the class too (stored beside the measured one)
    parse_retries: int = 2        # re-samples (new seed) after an unparsable or invalid reply
    sandbox: str | None = None
    sandbox_workers: int = 2


def read_seed_lines(path: str) -> list[tuple[int, dict]]:
    """(line number, raw seed) of every non-blank line of a seeds JSONL."""
    with open(path, encoding="utf-8") as fh:
        return [(n, json.loads(line)) for n, line in enumerate(fh, 1) if line.strip()]


class TeacherSeedItems:
    """make_item for the engine: item i -> seed i mod #seeds, with the new problem's id (picklable, lazy)."""

    def __init__(self, path: str):
        self.path, self._seeds = path, None

    def __call__(self, index: int) -> dict:
        self._seeds = self._seeds or read_seed_lines(self.path)
        line, raw = self._seeds[index % len(self._seeds)]
        seed_id = parse_seed(raw, self.path, line).id
        return {"id": f"{seed_id}-t{index}", "seed": raw, "line": line, "seeds_path": self.path}


class CodeTeacherTask(SandboxHolder, TeacherTask):
    name = COMMAND

    def __init__(self, config: CodeTeacherConfig, provenance: dict):
        self.config, self.provenance = config, provenance
        self.parallel_calls = 1 + config.agreement

    async def run(self, item: dict, session):
        origin = parse_seed(item["seed"], item["seeds_path"], item["line"])
        stub = {"id": item["id"], "seed_id": origin.id}
        build = self.config.build
        ask = prompts.reverse_messages if self.config.reverse else prompts.evolve_messages
        problem = await self._ask(session, ask({"prompt": origin.prompt, "reference_solution": origin.reference_solution}),
                                  PROBLEM, "problem", lambda text: prompts.parse_problem(text, origin, item["id"]))
        if isinstance(problem, Dropped):
            return _named(problem, stub)
        solutions = await self._solutions(session, problem) if self.config.agreement and not self.config.reverse else []
        mode = "reverse" if self.config.reverse else "evolved"
        provenance = {**self.provenance, "mode": mode, "seed_id": origin.id}
        built = await session.tool(functools.partial(self._build, problem, build, provenance), solutions,
                                   name="build", tag="build")
        if not isinstance(built, dict):  # a dry run answers tool calls with null: nothing was verified
            return Dropped("not_verified", "the sandbox did not run (dry run)", record=stub)
        if "reject" in built:
            return Dropped(*built["reject"], record=stub)
        record = built["record"]
        if self.config.reverse:
            statement = await self._ask(session, prompts.statement_messages(record), STATEMENT, "statement",
                                        prompts.parse_statement)
            if isinstance(statement, Dropped):
                return _named(statement, stub)
            record["prompt"] = statement
        if self.config.llm_complexity and record.get("complexity") is not None:
            predicted = await self._ask(session, prompts.complexity_messages(record), COMPLEXITY, "complexity",
                                        prompts.parse_complexity)
            # informative only: an unusable prediction leaves the field empty, the verified problem stays
            record["complexity"]["predicted"] = None if isinstance(predicted, Dropped) else predicted
        error = schemas.first_error(record, "code_problem")
        return Dropped("schema_violation", f"{error[0]}: {error[1]}", record=stub) if error else record

    async def _ask(self, session, messages: list[dict], kind: str, tag: str, parse):
        """One structured reply parsed by `parse` (text -> value | Reject); re-sampled with a new seed when the
        reply is not JSON under the schema (as Session.json does); a Dropped with the raw text otherwise."""
        schema = schemas.load_schema(kind)
        limits = structured.constraint(schema, session.mode, kind)
        failure = None
        for attempt in range(self.config.parse_retries + 1):
            try:
                reply = await session.chat(messages, tag=f"{tag}/{attempt}", **limits)
            except TeacherError as exc:
                return Dropped(exc.reason, exc.detail or None, raw=exc.raw)
            if reply.finish_reason == "length":  # cut at --max-tokens: re-sampling would be cut again
                return Dropped("teacher_truncated", "the reply hit max_tokens", raw=reply.text)
            text = _unfence(reply.text or "")
            value = parse(text)
            if not isinstance(value, Reject):
                return value
            failure = Dropped(value.reason, value.detail, raw=reply.text)
            if value.reason not in RESAMPLE:  # a well-formed but unusable answer: the sandbox's verdict stands
                break
        return failure

    async def _solutions(self, session, problem: Seed) -> list[str | None]:
        """K independent solutions of the statement (None where the reply held no usable code)."""
        import asyncio

        from synth.pipelines.code.reward import extract_code

        messages = prompts.solve_messages({"prompt": problem.prompt, "entry_point": problem.entry_point})

        async def one(k: int) -> str | None:
            try:
                reply = await session.chat(messages, tag=f"solve/{k}")
            except TeacherError:
                return None
            return extract_code(reply.text or "", "function", problem.entry_point)[0]

        return list(await asyncio.gather(*(one(k) for k in range(self.config.agreement))))

    def _build(self, problem: Seed, build: BuildConfig, provenance: dict, solutions: list) -> dict:
        """Sandbox verification (in the tool pool); JSON out, so the request cache can replay it."""
        from synth.pipelines.code.build import build_problem

        check = functools.partial(agreement_filter, self.box(), problem, solutions, self.config.quorum,
                                  build.tests.min_tests) if solutions else None
        try:
            result = build_problem(self.box(), problem, build, provenance, check_tests=check)
        except RuntimeError as exc:  # the sandbox itself failed: not the teacher's fault
            return {"reject": ["sandbox_infra_error", str(exc)[:300]]}
        return {"reject": [result.reason, result.detail]} if isinstance(result, Reject) else {"record": result}


def agreement_filter(box, problem: Seed, solutions: list, quorum: float, min_tests: int, tests) -> tuple | None:
    """Keep the tests on which more than `quorum` of all solutions (reference included) give the
    reference's output, so one buggy reference cannot fix wrong expected outputs."""
    from synth.pipelines.code.execute import run_function_tests

    from synth.sandbox import OK

    inputs = [json.loads(t["input"]) for t in tests.tests]
    sources = [problem.reference_solution, *[s for s in solutions if s]]
    outcomes = run_function_tests(box, sources, problem.entry_point or "", inputs)
    if any(o.status != OK for o in outcomes):
        return ("sandbox_infra_error", outcomes[0].detail[:300])
    values = [[v if s == OK else None for s, v in zip(o.verdicts, o.values)] for o in outcomes]
    failed = [[None] * len(inputs)] * (len(solutions) + 1 - len(sources))  # unusable replies vote for nothing
    keep = prompts.agree(values[0], values[1:] + failed, quorum)
    tests.tests = [t for t, k in zip(tests.tests, keep) if k]
    if len(tests.tests) < min_tests:
        detail = (f"{sum(keep)} of {len(keep)} tests had agreement over {quorum} among {len(solutions) + 1} "
                  f"solutions (need {min_tests})")
        return ("too_few_agreed_tests", detail)
    return None


def _named(dropped: Dropped, stub: dict) -> Dropped:
    dropped.record = stub
    return dropped


def _unfence(text: str) -> str:
    """A ```json fenced reply (json_schema mode ignored by some servers) -> its body."""
    match = structured._FENCE.match(text)
    return match.group(1) if match else text
