"""`synth generate deepsearch --teacher SPEC`: the LLM paths on top of the template pipeline.

Per work item, per candidate (one datatrove rollout does the whole loop, so a crash resumes from the
teacher layer's request cache):
  1. specificity filter   the teacher judges the seed entity (JSON {specific, reason}); generic -> next
  2. rule candidate       walk, formal question, template question, rule gauntlet (task.py)
  3. LLM verbalization    a fluent question under a JSON schema; kept only if it passes the leak and
                          BM25-shortcut checks again, else the template question stays (logged)
  4. closed-book solver   n answers without tools; any correct one -> `solved_closed_book`, next candidate
  5. tool-using solver    k rollouts in the environment (harness.py) -> pass rate -> tier
  6. difficulty dial      while the pass rate is outside --target-band and rounds remain: too easy ->
                          FUZZ / INJECT / DEEPEN (dial.py), re-verified and re-measured; too hard ->
                          REVERT to the previous version; every round in `edit_history`
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from synth.pipelines.deepsearch import llm
from synth.pipelines.deepsearch import operators as ops
from synth.pipelines.deepsearch import verify as vf
from synth.pipelines.deepsearch.dial import apply_edit, edit_order, tier_of
from synth.pipelines.deepsearch.relations import VERBS
from synth.pipelines.deepsearch.strength import gate_tier, solver_parameters, solver_record
from synth.pipelines.deepsearch.task import (
    Candidate,
    Failure,
    GenConfig,
    TaskBuilder,
    hidden_intermediates,
    rng_for,
)
from synth.pipelines.deepsearch.verbalize import type_noun
from synth.pipelines.trajectories.solver import (
    TrajectorySolver,  # issue 6's harness (harness.Harness protocol)
)

from synth.teachers.errors import TeacherError
from synth.teachers.runner import RETRY_ON_RESUME as TEACHER_DOWN
from synth.teachers.tasks import Dropped, TeacherTask


@dataclass(frozen=True)
class TeacherSettings:
    band: tuple[float, float] = (0.2, 0.8)
    max_rounds: int = 2
    closed_book_tries: int = 3
    rollouts: int = 4
    max_turns: int = 12
    specificity: bool = True
    native_tools: bool = True   # False for vLLM endpoints (no --enable-auto-tool-choice): Hermes text calls
    solver_turn_params: dict = field(default_factory=dict)  # e.g. a regex for random-weight test models
    solver: dict = field(default_factory=dict)  # who measures pass rates (strength.solver_record)
    min_solver_params: int | None = None        # --min-solver-params: below it, no hard/rl tiers


class DeepSearchTeacherTask(TeacherTask):
    name = "deepsearch (teacher)"

    def __init__(self, corpus: str, cfg: GenConfig, plan: list[str], num: int, provenance: dict,
                 settings: TeacherSettings):
        self.corpus, self.cfg, self.plan, self.num = corpus, cfg, plan, num
        self.provenance, self.settings = provenance, settings
        self.parallel_calls = max(1, settings.rollouts, settings.closed_book_tries)
        self._builder: TaskBuilder | None = None
        self._tools = None

    def _open(self) -> TaskBuilder:
        if self._builder is None:  # per worker process, on first use (the task object is pickled)
            from synth.pipelines.deepsearch.kb import KB

            from synth.env.tools import ToolBox

            kb = KB(self.corpus)
            self._builder = TaskBuilder(kb, self.cfg, self.plan, self.num)
            dense = bool(kb.corpus.card.get("indexes", {}).get("dense"))
            self._tools = ToolBox(kb.corpus, default_mode="hybrid" if dense else "bm25")
        return self._builder

    async def run(self, record: dict, session) -> object:
        from synth.pipelines.deepsearch.step import task_record

        builder, index = self._open(), int(record["index"])
        failures: Counter = Counter()
        last = Failure("no_output", "no candidate tried")
        for attempt in range(self.cfg.attempts):
            seed_id = builder.seed_of(index, attempt)
            try:
                done = await self._attempt(session, builder, index, attempt, seed_id)
            except Failure as exc:
                if exc.reason in TEACHER_DOWN:  # the teacher failed, not this candidate: moving on to the next one
                    # would make the output depend on the outage; this reject is retried when the run resumes
                    return Dropped(exc.reason, f"candidate {attempt + 1}: {exc.detail}"[:500])
                failures[exc.reason] += 1
                last = exc
                continue
            cand, extra = done
            provenance = {**self.provenance, "mode": "teacher"}
            return task_record(builder.kb, cand, index, self.cfg, failures, provenance, **extra)
        counts = ", ".join(f"{k}={v}" for k, v in sorted(failures.items()))
        return Dropped(last.reason, f"{self.cfg.attempts} candidates failed ({counts}); last: {last.detail}"[:500])

    async def _attempt(self, session, builder: TaskBuilder, index: int, attempt: int, seed_id: str):
        tag = f"a{attempt}"
        if self.settings.specificity:
            await self._specific(session, builder, seed_id, f"{tag}/specific")
        cand = builder.attempt(index, attempt, seed_id)
        ok, rate = await self._measure(session, builder, cand, tag)
        if not ok:
            raise Failure("solved_closed_book", cand.verification["closed_book"].get("detail", ""))
        rng = rng_for(self.cfg.seed, index, attempt, "dial")
        cand, rate, history = await self._dial(session, builder, cand, rate, rng, tag)
        solver = self.settings.solver if self.settings.rollouts else None  # no rollouts: nothing was measured
        tier = tier_of(rate, self.settings.band)
        if solver is not None:
            tier, solver = gate_tier(tier, solver, self.settings.min_solver_params)
        return cand, {"tier": tier, "pass_rate": rate, "edit_history": history, "solver": solver}

    # ---- the checks that need the teacher -----------------------------------------------------------
    async def _specific(self, session, builder: TaskBuilder, seed_id: str, tag: str) -> None:
        doc = builder.kb.by_id(seed_id)
        opening = doc.text.split("\n\n", 1)[0]
        try:
            verdict = await session.json(llm.specificity_messages(doc.title, (doc.categories or [None])[0], opening),
                                         llm.SPECIFIC_SCHEMA, tag=tag, name="specificity")
        except TeacherError as exc:
            raise Failure(exc.reason, f"specificity filter: {exc.detail}") from None
        if not verdict["specific"]:
            raise Failure("generic_seed", f"{seed_id}: {verdict['reason']}"[:300])

    async def _measure(self, session, builder: TaskBuilder, cand: Candidate, tag: str) -> tuple[bool, float | None]:
        """Verbalize, closed-book check, tool solver: (False, None) when solved closed-book, else
        (True, pass rate or None when no rollouts run)."""
        await self._verbalize(session, builder, cand, f"{tag}/verbalize")
        cb = await self._closed_book(session, builder, cand, f"{tag}/closed_book")
        cand.verification["closed_book"] = cb
        if cb["status"] == "failed":
            return False, None
        return True, await self._solve(session, builder, cand, f"{tag}/solve")

    async def _verbalize(self, session, builder: TaskBuilder, cand: Candidate, tag: str) -> None:
        kb, formal = builder.kb, cand.formal
        answer = formal.variables[formal.target]
        others = [r for v, r in formal.variables.items() if v != formal.target]
        forbidden = [n for r in formal.variables.values() for n in kb.names(r)]
        messages = llm.verbalize_messages(cand.question, constraint_lines(cand), forbidden,
                                          type_noun(formal.types[formal.target]))
        template = cand.question
        try:
            question = (await session.json(messages, llm.QUESTION_SCHEMA, tag=tag, name="question"))["question"].strip()
        except TeacherError as exc:
            if exc.reason in TEACHER_DOWN:  # no answer at all: not a verdict on the question (see run)
                raise Failure(exc.reason, f"question rewrite: {exc.detail}") from None
            cand.operators.append(ops.log("llm_verbalize_rejected", exc.reason, template, None))
            return
        unreadable = llm.readable_question(question)
        if unreadable:
            cand.operators.append(ops.log("llm_verbalize_rejected", unreadable, template, question))
            return
        dropped = vf.dropped_constraints(formal, question)
        if dropped:
            cand.operators.append(ops.log("llm_verbalize_rejected", "dropped_constraint", template,
                                          f"{question} (missing: {', '.join(dropped)})"))
            return
        leak = vf.check_no_leak(kb, question, answer, others)
        shortcut = vf.check_shortcut(kb, question, kb.doc(answer).id, self.cfg.shortcut_k,
                                     hidden_intermediates(kb, formal))
        if leak["status"] == "failed" or shortcut["status"] == "failed":
            why = leak.get("reason") if leak["status"] == "failed" else "shortcut"
            cand.operators.append(ops.log("llm_verbalize_rejected", why, template, question))
            return
        cand.question = question
        cand.verification["no_leak"], cand.verification["shortcut"] = leak, shortcut
        cand.operators.append(ops.log("llm_verbalize", formal.target, template, question))

    async def _closed_book(self, session, builder: TaskBuilder, cand: Candidate, tag: str) -> dict:
        n = self.settings.closed_book_tries
        if n == 0:
            return {"status": "not_run", "reason": "--closed-book-tries 0"}
        names = _answer_names(builder.kb, cand)
        answers = []
        for i in range(n):
            try:
                reply = await session.json(llm.closed_book_messages(cand.question), llm.ANSWER_SCHEMA,
                                           tag=f"{tag}/{i}", name="answer")
                answers.append(reply["answer"])
            except TeacherError as exc:
                if exc.reason in TEACHER_DOWN:  # the teacher failed, not the puzzle: this try never ran, and
                    # counting it as a wrong answer would pass the check on fewer real tries
                    raise Failure(exc.reason, f"closed-book solver: {exc.detail}") from None
                answers.append(None)  # no parsable answer is a failed try
        correct = [llm.answer_matches(a, names) for a in answers]
        out = {"status": "failed" if any(correct) else "passed", "tries": n, "answers": answers, "correct": correct}
        if any(correct):
            out.update(reason="solved_closed_book", detail=f"{sum(correct)} of {n} closed-book answers were right")
        return out

    async def _solve(self, session, builder: TaskBuilder, cand: Candidate, tag: str) -> float | None:
        k = self.settings.rollouts
        if k == 0:
            cand.verification["tool_solver"] = {"status": "not_run", "reason": "--rollouts 0"}
            return None
        task = {"question": cand.question, "answer": builder.kb.doc(cand.formal.variables["X"]).title,
                "aliases": _answer_names(builder.kb, cand)[1:]}
        solver = TrajectorySolver(dict(self.settings.solver_turn_params),
                                  tool_format="openai" if self.settings.native_tools else "hermes")
        try:
            result = await solver.solve(task, session, self._tools, k, max_turns=self.settings.max_turns, tag=tag)
        except TeacherError as exc:  # the solver could not run (e.g. a context overflow): this candidate fails
            raise Failure(exc.reason, f"tool-using solver: {exc.detail}") from None
        cand.verification["tool_solver"] = {"status": "passed", **result.summary(),
                                            "detail": f"{sum(result.correct)} of {k} rollouts answered correctly"}
        return result.pass_rate

    # ---- the dial ---------------------------------------------------------------------------------------
    async def _dial(self, session, builder, cand: Candidate, rate, rng, tag: str):
        band, history, previous = self.settings.band, [], []
        for round_no in range(1, self.settings.max_rounds + 1):
            tier = tier_of(rate, band)
            if tier in ("rl", "unverified"):
                break
            if tier == "hard":
                if previous:
                    old, old_rate = previous.pop()
                    history.append(_entry(round_no, "REVERT", "too hard: back to the previous version",
                                          cand.question, old.question, rate, old_rate, True))
                    cand, rate = old, old_rate
                break
            edited = next((out for edit in edit_order(round_no)
                           if (out := _try_edit(builder, cand, edit, rng)) is not None), None)
            if edited is None:
                break
            new, edit, detail = edited
            kept, new_rate = await self._measure(session, builder, new, f"{tag}/dial{round_no}")
            history.append(_entry(round_no, edit, detail, cand.question, new.question, rate, new_rate, kept))
            if kept:
                previous.append((cand, rate))
                cand, rate = new, new_rate
        return cand, rate, history


def _try_edit(builder, cand, edit, rng):
    out = apply_edit(builder, cand, edit, rng)
    return None if out is None else (out[0], edit, out[1])


def _entry(round_no, edit, detail, before, after, rate_before, rate_after, kept) -> dict:
    return {"round": round_no, "edit": edit, "detail": detail, "question_before": before, "question_after": after,
            "pass_rate_before": rate_before, "pass_rate_after": rate_after, "kept": kept}


def _answer_names(kb, cand: Candidate) -> list[str]:
    return list(kb.names(cand.formal.variables[cand.formal.target]))


def constraint_lines(cand: Candidate) -> list[str]:
    """The formal question in plain words, for the verbalization prompt (letters name hidden entities)."""
    formal, lines = cand.formal, []
    ref = lambda v: "the answer" if v == formal.target else f"[{v}]"
    for c in formal.constraints:
        const = formal.constants.get(c.constant) if c.constant else None
        if c.kind == "type":
            lines.append(f"{ref(c.subject)} is a {type_noun(c.value)}")
        elif c.kind == "link":
            lines.append(f"{ref(c.subject)} {VERBS[c.value or 'related'][0]} {ref(c.object)}")
        elif c.kind == "period":
            lines.append(f"{ref(c.subject)} dates from {const.text}")
        elif c.kind == "partial":
            lines.append(f"the name of {ref(c.subject)} begins with “{const.letters}”")
        else:
            lines.append(f"{ref(c.subject)} is {const.text}")
    return lines


def _served_by_vllm(teacher) -> bool:
    """A spawned engine, or an endpoint preflight found to be vLLM (it then resolved --structured auto to
    regex): such servers refuse OpenAI `tools=` unless started with --enable-auto-tool-choice."""
    return teacher.spec.kind == "vllm" or teacher.options.structured in ("regex", "regex_bounded")


def teacher_fields(corpus: str, cfg: GenConfig, plan: list[str], opts, sizes: dict, band: tuple[float, float],
                   teacher, provenance: dict) -> dict:
    """The Job fields (tail, skip_done) that run the teacher task on `teacher` (`opts`: the command's
    options; `sizes`: its --solver-params / --min-solver-params as parameter counts)."""
    from synth.teachers.job import teacher_job
    from synth.teachers.preflight import preflight

    chosen = preflight(teacher)
    solver = solver_record(chosen.label, solver_parameters(chosen.spec, sizes["solver_params"]),
                           opts.rollouts, opts.max_turns)
    settings = TeacherSettings(band=band, max_rounds=opts.max_rounds,
                               closed_book_tries=opts.closed_book_tries, rollouts=opts.rollouts,
                               max_turns=opts.max_turns, native_tools=not _served_by_vllm(chosen),
                               solver=solver, min_solver_params=sizes["min_solver_params"])
    task = DeepSearchTeacherTask(corpus, cfg, plan, opts.num, provenance, settings)
    return teacher_job(task, chosen)
