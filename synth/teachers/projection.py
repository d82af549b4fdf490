"""`--dry-run` / `--pilot N` for teacher jobs: projected requests, tokens and cost, and what they assume.

Two bases:
  counted  every record still to do runs through the task against a dry teacher (synth.teachers.dry):
           requests and prompt tokens are counted (exact with a local tokenizer, else estimated), completion
           tokens are bounded by max_tokens per request. Nothing is sent.
  pilot    the first N records run for real, in a temporary folder (nothing reaches --out; the answers are
           not reused), and the teacher's reported usage per record is extrapolated to the records to do.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from synth.teachers.budget import Budget, Spend, total_spend
from synth.teachers.config import Teacher


def project(job, task, teacher: Teacher, docs, total: int, rt) -> dict:
    from synth.teachers.dry import TokenCounter, simulate

    counter = TokenCounter(teacher)
    tally, calls = simulate(task, teacher, docs, counter)
    todo = tally.records
    summary = {"command": job.command, "out": str(job.out), "status": "dry_run",
               "teacher": f"{teacher.spec} (model {teacher.spec.model})",
               "records": total, "records_done": total - todo, "records_to_do": todo}
    notes: list[str] = []
    if rt.pilot:
        pilot = run_pilot(job, rt.pilot)
        summary.update(_extrapolate(pilot, todo))
        summary["pilot"] = pilot
        notes.append(f"pilot: {pilot['records']} records run for real in a temporary folder (nothing written to "
                     "--out; their answers are not reused by the real run), usage per record extrapolated")
    else:
        summary.update(requests=tally.requests, prompt_tokens=tally.prompt_tokens,
                       completion_tokens=tally.completion_tokens, basis="counted",
                       prompt_tokens_by=counter.method,
                       completion_tokens_by=f"upper bound: max_tokens per request ({teacher.options.max_tokens} "
                                            "unless the task sets its own)")
        notes += _counted_notes(tally, calls, counter)
    summary["total_tokens"] = summary["prompt_tokens"] + summary["completion_tokens"]
    summary.update(_priced(teacher.budget, summary))
    notes += _cap_notes(teacher.budget, Path(job.out), summary, todo)
    if total - todo:
        notes.append(f"{total - todo} records already done in --out are not counted (a re-run resumes)")
    summary["notes"] = notes
    return summary


def _counted_notes(tally, calls, counter) -> list[str]:
    notes = [("counted with placeholder replies: calls that depend on what the teacher answers (parse "
              "retries, further agent turns, judge or difficulty rounds) are not in it; --pilot N measures them")]
    if calls.get("with_tools"):
        notes.append(f"multi-turn rollouts ({calls['with_tools']} requests carry tools): counted as ONE model turn "
                     "per rollout; each further turn re-sends the whole conversation, so real requests scale with "
                     "turns and prompt tokens about with turns squared: this projection is a lower bound")
    if calls.get("invalid_placeholders"):
        notes.append(f"{calls['invalid_placeholders']} JSON calls have a schema the placeholder does not satisfy "
                     "(counted with their parse retries)")
    if counter.fallbacks:
        notes.append(f"{counter.fallbacks} prompts did not render with the chat template: estimated")
    if tally.silent:
        notes.append(f"{tally.silent} records make no teacher request (rejected before the teacher is asked)")
    return notes


def _extrapolate(pilot: dict, todo: int) -> dict:
    n = max(1, pilot["records"])
    per = {k: pilot[k] / n for k in ("requests", "prompt_tokens", "completion_tokens")}
    per_request = pilot["completion_tokens"] / max(1, pilot["requests"])
    return {"requests": round(per["requests"] * todo), "prompt_tokens": round(per["prompt_tokens"] * todo),
            "completion_tokens": round(per["completion_tokens"] * todo), "basis": f"pilot ({pilot['records']} records)",
            "prompt_tokens_by": f"pilot: {per['prompt_tokens']:.0f} per record, as the teacher reported them",
            "completion_tokens_by": f"pilot: {per_request:.0f} per request, {per['completion_tokens']:.0f} per record"}


def _priced(budget: Budget, summary: dict) -> dict:
    if budget.price is None:
        return {}
    cost = budget.price.cost(summary["prompt_tokens"], summary["completion_tokens"])
    return {"cost_usd": round(cost, 6), "price": f"{budget.price} USD per million input:output tokens"}


def _cap_notes(budget: Budget, out: Path, summary: dict, todo: int) -> list[str]:
    """How far the caps reach, given what this --out has already spent."""
    if not budget.capped:
        return []
    spent = total_spend(out)
    projected = Spend(summary["prompt_tokens"], summary["completion_tokens"], summary["requests"])
    fractions = []
    if budget.max_tokens_total is not None and projected.tokens:
        fractions.append((budget.max_tokens_total - spent.tokens) / projected.tokens)
    if budget.max_cost is not None and budget.cost(projected):
        fractions.append((budget.max_cost - budget.cost(spent)) / budget.cost(projected))
    if not fractions:
        return []
    share = max(0.0, min(fractions))
    summary["cap_covers"] = round(min(share, 1.0), 4)
    if share >= 1.0:
        return [f"the caps cover the projection ({budget.describe(spent)} spent so far)"]
    return [(f"the caps cover ≈{share:.0%} of the projection (≈{int(share * todo)} of {todo} records; "
             f"{budget.describe(spent)} spent so far): the run would stop there with exit 3, resumable")]


# -- pilot -----------------------------------------------------------------------------------------------
def run_pilot(job, n: int) -> dict:
    """Run the job on its first `n` items in a temporary folder; the teacher's usage and the outcome."""
    from synth.engine import Runtime, run_job

    with tempfile.TemporaryDirectory(prefix="synth-pilot-") as tmp:
        pilot = _pilot_job(job, Path(tmp), n)
        done = run_job(pilot, Runtime(progress=False))
        spend = total_spend(pilot.out)
        counts = done.get("counts") or {}
        return {"records": counts.get("input") or 0, "requests": spend.requests,
                "prompt_tokens": spend.prompt_tokens, "completion_tokens": spend.completion_tokens,
                "output": counts.get("output", 0), "rejected_by_reason": counts.get("rejected_by_reason", {}),
                "status": done.get("status")}


def _pilot_job(job, tmp: Path, n: int):
    out = tmp / "out"
    if job.make_item is not None:
        return dataclasses.replace(job, out=out, items=min(n, job.items or 0))
    import orjson

    from synth.dataset import iter_rows

    sample = tmp / "pilot.jsonl"
    with open(sample, "wb") as fh:
        for i, row in enumerate(iter_rows(job.inputs)):
            if i >= n:
                break
            fh.write(orjson.dumps(row.record) + b"\n")
    return dataclasses.replace(job, out=out, inputs=[str(sample)])
