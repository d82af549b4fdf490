"""Pair-wise judging of one prompt's candidates: the paper's combination, then a knockout, then pairs.

    candidates ─point-wise stage─▶ scores ─filter (--min-score, --top-k)─▶ entrants ─knockout─▶ matches
                (--pointwise auto: reuse scores already on the input, judge the rest; judge: always;
                 input: only reuse; off: skip)

Each match is judged in both orders (verdicts.py); decisive matches become `preference_pair` records
(chosen = the match winner, margin from the verdict strengths, both verdicts kept), `--pairs best` keeps
only the champion's wins. Every other match is a reject whose record has the pair's shape: `judge_tie`,
`position_inconsistent`, `not_best_pair`, or the teacher's failure reason; candidates the point-wise stage
removed are rejects too (`score_below_threshold`, `below_top_k`, or the failure). So the output accounts for
every candidate and every match, and reliability.py computes the figures from it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from synth.pipelines.judge.candidates import Candidate
from synth.pipelines.judge.pointwise import JudgeOptions, score_candidate
from synth.pipelines.judge.prompts import pairwise_messages
from synth.pipelines.judge.rubric import Rubric
from synth.pipelines.judge.tournament import Match, Tournament, knockout
from synth.pipelines.judge.verdicts import FAILED, REASONS, WIN, Outcome, outcome, verdict_schema

from synth.teachers.errors import TeacherError
from synth.teachers.tasks import Dropped, TeacherTask

POINTWISE_MODES = ("auto", "judge", "input", "off")
PAIRS = ("all", "best")


@dataclass(frozen=True)
class Plan:
    """How point-wise and pair-wise judging combine (all of it is in the command's hashed config)."""

    pointwise: str = "auto"
    min_score: float | None = None   # point-wise filter: candidates scoring below never enter the tournament
    top_k: int | None = None         # ... and only the k best-scored do
    pairs: str = "all"               # all decisive matches | best: only the champion's wins

    @property
    def method(self) -> str:
        return "tournament" if self.pointwise == "off" else "pointwise+tournament"


class PairwiseTask(TeacherTask):
    name = "judge pairwise"
    parallel_calls = 8

    def __init__(self, rubric: Rubric, opts: JudgeOptions, plan: Plan, seed: int, provenance: dict):
        self.rubric, self.opts, self.plan, self.seed, self.provenance = rubric, opts, plan, seed, provenance

    async def run(self, group: dict, session) -> list:
        candidates = [Candidate.from_dict(c) for c in group["candidates"]]
        limit = asyncio.Semaphore(self.parallel_calls)
        dropped: list[Dropped] = []
        entrants = self._filter(await self._pointwise(candidates, session, limit, dropped), dropped)
        if len(entrants) < 2:
            summary = {"id": group["id"], "metadata": {"prompt_id": group["id"], "stage": "tournament",
                                                       "candidates": len(candidates), "entrants": len(entrants)}}
            return [*dropped, Dropped("too_few_candidates", f"{len(entrants)} of {len(candidates)} candidates "
                                      "left for the tournament; a pair needs 2", record=summary)]
        by_id = {c.id: c for c in entrants}
        failures: dict[tuple[str, str], TeacherError] = {}

        async def play(x: str, y: str, rnd: int) -> Outcome:
            return await self._match(session, limit, by_id[x], by_id[y], failures)

        played = await knockout(list(by_id), f"{self.seed}:{group['id']}", play, {c.id: c.score for c in entrants})
        return [self._emit(group["id"], m, played, by_id, failures.get((m.x, m.y))) for m in played.matches] + dropped

    # -- point-wise stage ------------------------------------------------------------------------------
    async def _pointwise(self, candidates: list[Candidate], session, limit, dropped: list) -> list[Candidate]:
        mode = self.plan.pointwise
        todo = [] if mode in ("off", "input") else [c for c in candidates if mode == "judge" or c.score is None]

        async def score(candidate: Candidate):
            async with limit:
                try:
                    return await score_candidate(session, candidate, self.rubric, self.opts)
                except TeacherError as exc:
                    return exc

        failed = set()
        for candidate, result in zip(todo, await asyncio.gather(*(score(c) for c in todo))):
            if isinstance(result, TeacherError):
                failed.add(candidate.id)
                dropped.append(Dropped(result.reason, f"point-wise scoring failed: {result.detail}"[:500],
                                       raw=result.raw, record=_candidate_record(candidate)))
            else:
                candidate.score, candidate.scores = result["score"], result["scores"]
        return [c for c in candidates if c.id not in failed]

    def _filter(self, candidates: list[Candidate], dropped: list) -> list[Candidate]:
        plan, kept = self.plan, []
        for c in candidates:
            if plan.min_score is not None and c.score is not None and c.score < plan.min_score:
                dropped.append(Dropped("score_below_threshold", f"score {c.score:g} < --min-score {plan.min_score:g}",
                                       record=_candidate_record(c)))
            else:
                kept.append(c)
        if plan.top_k is not None and len(kept) > plan.top_k:
            ranked = sorted(kept, key=lambda c: -(c.score if c.score is not None else float("-inf")))  # stable
            for c in ranked[plan.top_k:]:
                dropped.append(Dropped("below_top_k", f"not among the --top-k {plan.top_k} best scores",
                                       record=_candidate_record(c)))
            keep = {c.id for c in ranked[: plan.top_k]}
            kept = [c for c in kept if c.id in keep]
        return kept

    # -- pair-wise stage -------------------------------------------------------------------------------
    async def _match(self, session, limit, x: Candidate, y: Candidate, failures: dict) -> Outcome:
        schema = verdict_schema(self.opts.rationale_chars)

        async def judge(first: Candidate, second: Candidate, order: str):
            async with limit:
                try:
                    reply = await session.json(pairwise_messages(first, second, self.rubric, self.opts.clip), schema,
                                               tag=f"pair:{x.id}|{y.id}:{order}", retries=self.opts.retries,
                                               name="pairwise_verdict")
                    return reply, None
                except TeacherError as exc:
                    failures.setdefault((x.id, y.id), exc)
                    return None, f"{exc.reason}: {exc.detail}"[:300]

        (r1, e1), (r2, e2) = await asyncio.gather(judge(x, y, "xy"), judge(y, x, "yx"))
        return outcome(x.id, y.id, r1, r2, (e1, e2))

    def _emit(self, pid: str, match: Match, played: Tournament, by_id: dict, failure: TeacherError | None):
        chosen, rejected = by_id[match.advanced], by_id[match.eliminated]
        out = match.outcome
        record = {
            "id": f"{pid}/{chosen.id}>{rejected.id}", "prompt": chosen.prompt, "chosen": chosen.response,
            "rejected": rejected.response, "tools": chosen.tools, "margin": out.margin, "method": self.plan.method,
            "judge": self.opts.judge, "verdicts": out.verdicts,
            "metadata": {"prompt_id": pid, "round": match.round, "rounds": played.rounds, "status": out.status,
                         "advanced": match.advanced, "decided_by": match.decided_by, "winner": played.winner,
                         "entrants": len(played.bracket), "chosen_id": chosen.id, "rejected_id": rejected.id,
                         "chosen_score": chosen.score, "rejected_score": rejected.score},
            "provenance": self.provenance,
        }
        record = {k: v for k, v in record.items() if v is not None}
        if out.status == WIN:
            if self.plan.pairs == "best" and match.advanced != played.winner:
                return Dropped("not_best_pair", "--pairs best keeps only the champion's wins", record=record)
            return record
        if out.status == FAILED:
            return Dropped(failure.reason if failure else "judge_failed",
                           f"match {match.x} vs {match.y}: {failure.detail if failure else 'no verdict'}"[:500],
                           raw=failure.raw if failure else None, record=record)
        return Dropped(REASONS[out.status], f"match {match.x} vs {match.y}: verdicts "
                       f"{out.verdicts[0]['verdict']} / {out.verdicts[1]['verdict']} (second order swapped)",
                       record=record)


def _candidate_record(c: Candidate) -> dict:
    return {"id": c.id, "prompt": c.prompt, "response": c.response,
            "metadata": {"prompt_id": c.prompt_id, "stage": "pointwise", "score": c.score, "scores": c.scores}}
