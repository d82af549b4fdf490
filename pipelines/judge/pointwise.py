"""Point-wise judging: one schema-constrained call per candidate, per-criterion scores 1-10 with rationales.

`synth judge pointwise` writes each candidate back as a `trajectory` record (so it trains as SFT data as is)
with `metadata.judge` = {method, judge, rubric, rubric_hash, score (weighted mean), scores {criterion:
{score, rationale, weight}}}; with --min-score, lower-scored candidates go to rejects/ as
`score_below_threshold`, scores included. `synth judge pairwise` reuses `score_candidate` for the
point-wise stage of the paper's combination.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from synth.pipelines.judge.candidates import Candidate, candidate_of
from synth.pipelines.judge.prompts import pointwise_messages
from synth.pipelines.judge.rubric import Rubric

from synth.teachers.errors import TeacherError
from synth.teachers.tasks import Dropped, TeacherTask

TRAJECTORY_KEYS = ("id", "task_id", "messages", "tools", "question", "answer", "metadata", "provenance")
PROVENANCE_KEYS = ("command", "mode", "teacher", "seed", "synth_version")


@dataclass(frozen=True)
class JudgeOptions:
    judge: str                 # the judge's name in records ("llm:MODEL")
    clip: int = 4000           # characters of each message the judge sees
    rationale_chars: int = 400  # bound on each rationale / analysis (keeps constrained replies short)
    retries: int = 2           # re-samples of a reply that does not parse or validate


async def score_candidate(session, candidate: Candidate, rubric: Rubric, opts: JudgeOptions) -> dict:
    """metadata.judge for one candidate; raises TeacherError (reason, raw reply) when the judge fails."""
    reply = await session.json(pointwise_messages(candidate, rubric, opts.clip), rubric.schema(opts.rationale_chars),
                               tag=f"point:{candidate.id}", retries=opts.retries, name="pointwise_scores")
    scores = {c.name: {"score": int(reply[c.name]["score"]), "rationale": reply[c.name]["rationale"], "weight": c.weight}
              for c in rubric.criteria}
    return {"method": "pointwise", "judge": opts.judge, "rubric": rubric.name, "rubric_hash": rubric.digest,
            "score": rubric.overall({k: v["score"] for k, v in scores.items()}), "scores": scores}


def scored_record(record: dict, candidate: Candidate, judge: dict) -> dict:
    """The input as a trajectory record with `metadata.judge` (foreign fields dropped, messages cleaned)."""
    out = {k: record[k] for k in TRAJECTORY_KEYS if record.get(k) is not None}
    out["id"] = candidate.id
    out.setdefault("task_id", candidate.prompt_id)
    out["messages"] = candidate.prompt + candidate.response
    if isinstance(out.get("provenance"), dict):
        out["provenance"] = {k: v for k, v in out["provenance"].items() if k in PROVENANCE_KEYS}
    for key in ("question", "answer", "task_id"):
        if key in out and not isinstance(out[key], str):
            out[key] = str(out[key])
    metadata = dict(out.get("metadata") or {}) if isinstance(out.get("metadata"), dict) else {}
    metadata["judge"] = judge
    out["metadata"] = metadata
    return out


class PointwiseTask(TeacherTask):
    name = "judge pointwise"

    def __init__(self, rubric: Rubric, opts: JudgeOptions, min_score: float | None = None):
        self.rubric, self.opts, self.min_score = rubric, opts, min_score

    async def run(self, record: dict, session) -> dict | Dropped:
        candidate = candidate_of(record)
        if isinstance(candidate, str):
            return Dropped("no_candidate", candidate)
        try:
            judge = await score_candidate(session, candidate, self.rubric, self.opts)
        except TeacherError as exc:
            return Dropped(exc.reason, exc.detail or None, raw=exc.raw, record=record)
        out = scored_record(record, candidate, judge)
        if self.min_score is not None and judge["score"] < self.min_score:
            return Dropped("score_below_threshold", f"score {judge['score']:g} < --min-score {self.min_score:g}",
                           record=out)
        return out


def pointwise_figures(out: Path) -> dict:
    """Score distribution of a `synth judge pointwise` output: kept and threshold-filtered candidates."""
    from synth.pipelines.judge.reliability import chunks

    scores: list[float] = []
    criteria: dict[str, list[int]] = defaultdict(list)
    histogram: Counter = Counter()
    kept = filtered = 0
    for data, rejects in chunks(out, "trajectory"):
        judged = [(r, True) for r in data] + [(r.get("record") or {}, False) for r in rejects
                                              if r["reason"] == "score_below_threshold"]
        for record, is_kept in judged:
            judge = (record.get("metadata") or {}).get("judge") or {}
            if not isinstance(judge.get("score"), (int, float)):
                continue
            kept, filtered = kept + is_kept, filtered + (not is_kept)
            scores.append(float(judge["score"]))
            histogram[str(min(10, int(judge["score"])))] += 1
            for name, item in (judge.get("scores") or {}).items():
                criteria[name].append(int(item["score"]))
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None
    return {"scored": len(scores), "kept": kept, "filtered": filtered, "mean_score": mean(scores),
            "score_histogram": {k: histogram[k] for k in sorted(histogram, key=int)},
            "criteria_mean": {k: mean(v) for k, v in sorted(criteria.items())}}
