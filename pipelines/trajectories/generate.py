"""`synth generate trajectories`: k rollouts per deep-search task, judged, filtered, best kept.

    --teacher none   GoldPaths (a RecordStep): the search solver of gold.py (real candidate checks and backtracking)
    --teacher SPEC   TrajectoryTask (a TeacherTask): the harness through the teacher's InferenceRunner

Every rollout becomes a trajectory record (id TASK#rK) with the task's question, answer, aliases and
gold evidence, the environment spec, the judge's verdict and `metadata` {rollout, stop, turns,
tool_calls, gold_path | summaries}. Rollouts that fail the filters are rejects with the filter's reason;
with --keep best only the passing rollout with the fewest calls is kept (the others: `not_best`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from synth.pipelines.labels.evidence import evidence_of
from synth.pipelines.trajectories import filters, judge
from synth.pipelines.trajectories.envtools import TOOLS, EnvTools
from synth.pipelines.trajectories.filters import FilterConfig
from synth.pipelines.trajectories.gold import GoldConfig, GoldPath, GoldPathError
from synth.pipelines.trajectories.harness import Harness, HarnessConfig, Rollout, call_regex
from synth.pipelines.trajectories.messages import final_answer, tool_call_count
from synth.pipelines.trajectories.narrate import narrate

from synth import records
from synth.records import Reject
from synth.steps import RecordStep
from synth.teachers.agent import TEACHER_FAILURE_OF_STOP
from synth.teachers.errors import TeacherError
from synth.teachers.session import derive_seed
from synth.teachers.tasks import Dropped, TeacherTask

KEEP = ("best", "correct", "all")
COMMAND = "generate trajectories"


@dataclass
class GenSettings:
    rollouts: int = 1
    keep: str = "correct"              # best | correct (every passing rollout) | all (no filtering)
    use_llm_judge: bool = False
    filters: FilterConfig = field(default_factory=FilterConfig)
    harness: HarnessConfig = field(default_factory=HarnessConfig)
    gold: GoldConfig = field(default_factory=GoldConfig)
    constrain_calls: bool = False
    provenance: dict = field(default_factory=dict)


def trajectory_record(task: dict, messages: list[dict], rollout: int, settings: GenSettings, env: dict,
                      meta: dict, tools: list[dict], source_format: str | None) -> dict:
    return {
        "id": f"{task['id']}#r{rollout}", "task_id": task["id"], "messages": messages, "tools": tools,
        "question": task["question"], "answer": task.get("answer"), "aliases": task.get("aliases"),
        "predicted_answer": final_answer(messages), "context_policy": settings.harness.policy.name,
        "source_format": source_format, "evidence": evidence_of(task),
        "environment": {**env, "max_turns": settings.harness.max_turns},
        "metadata": {"rollout": rollout, "tier": task.get("tier"), **meta}, "provenance": settings.provenance,
    }


def select(candidates: list[dict], settings: GenSettings) -> list[tuple[dict, Reject | None]]:
    """(record, None) kept or (record, Reject) dropped, in rollout order."""
    if settings.keep == "all":
        return [(r, None) for r in candidates]
    checked = [(r, _stopped(r) or filters.check(r, settings.filters)) for r in candidates]
    if settings.keep == "correct":
        return checked
    best = filters.select_best([r for r, why in checked if why is None])
    return [(r, why if why is not None or r is best else Reject("not_best", "another rollout needs fewer calls"))
            for r, why in checked]


def _stopped(record: dict) -> Reject | None:
    stop = (record.get("metadata") or {}).get("stop")
    if stop in (None, "answer"):
        return None
    return Reject({"max_turns": "max_turns_reached", **TEACHER_FAILURE_OF_STOP}.get(stop, "no_answer"),
                  f"the rollout stopped at {stop} after {record['metadata'].get('turns')} turns")


class GoldPaths(RecordStep):
    """--teacher none: k solver rollouts per task (the wording of the reasoning differs per rollout)."""

    name = "gold paths"

    def __init__(self, corpus: str, settings: GenSettings, tools: tuple[str, ...] = TOOLS):
        super().__init__()
        self.env, self.settings = EnvTools(corpus, tools), settings
        self._gold: GoldPath | None = None

    def setup(self, rank: int, world_size: int) -> None:
        if self._gold is None:
            self._gold = GoldPath(self.env, self.settings.gold)
            self._spec = self.env.spec()

    def process(self, task: dict):
        built = []
        for k in range(self.settings.rollouts):
            try:
                messages, notes = self._gold.build(task, k)
            except GoldPathError as exc:
                return Reject(exc.reason, exc.detail[:500])
            messages = narrate(task["question"], messages, notes, derive_seed(self.settings.gold.seed, task["id"], k))
            meta = {"stop": "answer", "turns": len(notes), "tool_calls": tool_call_count(messages), "gold_path": notes}
            record = trajectory_record(task, messages, k, self.settings, self._spec, meta, self._spec["tools"], None)
            record["judgement"] = judge.match(record["predicted_answer"], task.get("answer"),
                                              task.get("aliases")).to_record()
            built.append(record)
        return select(built, self.settings)

    def _apply(self, doc) -> None:
        """Like RecordStep._apply, but a list of (record, reject-or-None) files each dropped rollout too."""
        try:
            result = self.process(records.record_of(doc))
        except Exception as exc:  # noqa: BLE001 - one bad task must not stop the run (as in RecordStep)
            result = Reject("internal_error", f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(result, Reject):
            self.stat_update(result.reason)
            records.mark_reject(doc, result, self.name)
            return
        kept = [r for r, why in result if why is None]
        dropped = [(r, why) for r, why in result if why is not None]
        if kept:
            records.set_record(doc, kept[0])
            records.add_records(doc, kept[1:])
        else:
            first_record, first = dropped.pop(0)
            records.set_record(doc, first_record)
            records.mark_reject(doc, first, self.name)
        for record, why in dropped:
            self.stat_update(why.reason)
            records.add_reject(doc, why, self.name, record=record)


class TrajectoryTask(TeacherTask):
    """--teacher SPEC: k harness rollouts per task through the teacher session."""

    name = COMMAND

    def __init__(self, corpus: str, settings: GenSettings, tools: tuple[str, ...] = TOOLS):
        self.env, self.settings = EnvTools(corpus, tools), settings
        self.parallel_calls = max(1, settings.rollouts)

    def docs_in_flight(self, max_concurrency: int) -> int:
        # half of a rollout's time is spent in tools: keep twice as many tasks going as the engine needs
        return max(2, 2 * max_concurrency // self.parallel_calls)

    def harness(self) -> Harness:
        cfg = self.settings.harness
        specs = self.env.schemas()
        if self.settings.constrain_calls:
            regex = call_regex(specs, cfg.tool_format)
            cfg = HarnessConfig(cfg.max_turns, cfg.policy, cfg.tool_format,
                                {**cfg.turn_params, "structured_outputs": {"regex": regex}}, cfg.summary_max_tokens)
        return Harness(cfg, self.env.functions(), specs)

    async def run(self, task: dict, session):
        harness, spec = self.harness(), self.env.spec()
        rollouts = await asyncio.gather(*(self._rollout(harness, session, task, k) for k in range(self.settings.rollouts)))
        failed = [r for r in rollouts if isinstance(r, Dropped)]
        built = [await self._record(task, k, r, harness, spec, session) for k, r in enumerate(rollouts)
                 if not isinstance(r, Dropped)]
        out = []
        for record, why in select(built, self.settings):
            out.append(record if why is None else Dropped(why.reason, why.detail, record=record))
        return out + failed

    async def _rollout(self, harness: Harness, session, task: dict, k: int) -> Rollout | Dropped:
        """One rollout; a teacher failure (after retries) drops this rollout only, not its siblings."""
        try:
            return await harness.rollout(session, task["question"], tag=f"r{k}")
        except TeacherError as exc:
            return Dropped(exc.reason, exc.detail or None, raw=exc.raw,
                           record={"id": f"{task['id']}#r{k}", "task_id": task["id"]})

    async def _record(self, task: dict, k: int, rollout: Rollout, harness: Harness, spec: dict, session) -> dict:
        meta = {"stop": rollout.stop, "turns": rollout.turns, "tool_calls": rollout.tool_calls}
        if rollout.summaries:
            meta["summaries"] = rollout.summaries
        record = trajectory_record(task, rollout.messages, k, self.settings, spec, meta, harness.specs,
                                   self.settings.harness.tool_format)
        if rollout.stop != "answer":
            record["judgement"] = {"correct": False, "method": "none", "reason": f"no answer: stopped at {rollout.stop}"}
            return record
        try:
            verdict = await judge.judge(session, task["question"], task.get("answer"), task.get("aliases"),
                                        record["predicted_answer"], f"r{k}/judge", self.settings.use_llm_judge)
        except TeacherError as exc:  # the judge failed, not the rollout: it stays, unjudged
            verdict = judge.Judgement(None, "llm", f"judge failed: {exc.reason}")
        record["judgement"] = verdict.to_record()
        return record
