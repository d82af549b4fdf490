"""Command parameters -> the engine Job of `synth generate deepsearch` (driver side).

The driver opens the corpus once to plan seeds (so "no seed matches --since" is one clear line, exit 2,
before any work) and records the corpus version in the hashed config: the same flags on a rebuilt
corpus are a different run.
"""

from __future__ import annotations

from pathlib import Path

from synth.errors import UserError


def parse_range(value: str, flag: str, cast=int) -> tuple:
    """'2-4' | '2:4' | '3' -> (lo, hi) with 0 <= lo <= hi; UserError naming the flag otherwise."""
    parts = str(value).replace(":", "-").split("-")
    try:
        lo, hi = cast(parts[0]), cast(parts[-1])
    except ValueError:
        raise UserError(f"{flag} must be LO-HI or a single value, got {value!r}") from None
    if len(parts) > 2 or lo > hi or lo < 0:
        raise UserError(f"{flag} must be LO-HI with 0 <= LO <= HI, got {value!r}")
    return lo, hi


def parse_band(value: str) -> tuple[float, float]:
    parts = str(value).split(":")
    try:
        lo, hi = float(parts[0]), float(parts[-1])
    except ValueError:
        raise UserError(f"--target-band must be LO:HI (pass rates in 0..1), got {value!r}") from None
    if len(parts) != 2 or not 0 <= lo <= hi <= 1:
        raise UserError(f"--target-band must be LO:HI with 0 <= LO <= HI <= 1, got {value!r}")
    return lo, hi


class Items:
    """make_item for the engine: item i -> {"index": i} (picklable)."""

    def __call__(self, index: int) -> dict:
        return {"index": index}


def _since(value: str | None) -> str | None:
    if not value:
        return None
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise UserError(f"--since must be a date YYYY-MM-DD, got {value!r}") from None


def build_job(opts, config: dict):
    from synth.pipelines.deepsearch.kb import KB
    from synth.pipelines.deepsearch.seeds import SeedPolicy, plan_seeds
    from synth.pipelines.deepsearch.stats import Stats
    from synth.pipelines.deepsearch.step import COMMAND, TemplateTasks
    from synth.pipelines.deepsearch.strength import parse_size
    from synth.pipelines.deepsearch.task import GenConfig
    from synth.pipelines.deepsearch.walk import WalkConfig, can_start

    from synth import manifest as mf
    from synth.engine import Job
    from synth.teachers.flags import teacher_from

    corpus = Path(opts.corpus)
    if not corpus.is_dir():
        raise UserError(f"{corpus}: --corpus is not a directory (build one with `synth corpus build`)")
    hops = parse_range(opts.hops, "--hops")
    if hops[0] < 1:
        raise UserError("--hops must be at least 1")
    in_band, chars = parse_range(opts.seed_in_degree, "--seed-in-degree"), parse_range(opts.seed_chars, "--seed-chars")
    band = parse_band(opts.target_band)
    sizes = {key: parse_size(getattr(opts, key), "--" + key.replace("_", "-"))
             for key in ("min_solver_params", "solver_params")}  # '7B' -> 7000000000
    since = _since(opts.since)
    teacher = teacher_from(opts)
    kb = KB(corpus)
    policy = SeedPolicy(since=since, min_in=in_band[0], max_in=in_band[1],
                        min_chars=chars[0], max_chars=chars[1])
    from synth.pipelines.eval.failures import failure_plan

    mined = failure_plan(opts.from_failures, hops, opts.backoff, opts.cycle)
    walk_cfg = WalkConfig(min_depth=hops[0], max_hops=hops[1], max_in_degree=opts.max_in_degree)
    plan, plan_stats = plan_seeds(kb, policy, opts.seed, mined["prefer"],
                                  can_start=lambda row: can_start(kb, row, walk_cfg))
    if mined["prefer"] and not plan_stats["preferred"]["eligible"]:
        raise UserError(f"{opts.from_failures}: none of the {len(mined['prefer'])} entities the model failed on "
                        "can seed a task here (other corpus, or outside --since/--seed-in-degree/--seed-chars)")
    if not plan:
        raise UserError(f"{corpus}: no entry qualifies as a seed (excluded: {plan_stats['excluded']}); "
                        "widen --since, --seed-in-degree or --seed-chars")
    cfg = GenConfig(seed=opts.seed, hops=hops, backoff=mined["backoff"], cycle=mined["cycle"],
                    max_in_degree=opts.max_in_degree, partial_p=opts.partial,
                    shortcut_k=opts.shortcut_k, attempts=opts.attempts, hop_weights=mined["hop_weights"],
                    honest_gate=teacher.spec.kind == "none" and opts.honest_gate,
                    preferred=plan_stats.get("preferred", {}).get("eligible", 0))
    provenance = {"command": COMMAND, "mode": "template" if teacher.spec.kind == "none" else "teacher",
                  "teacher": teacher.label, "seed": opts.seed, "synth_version": mf.synth_version()}
    stats = Stats({"seed_plan": {k: v for k, v in plan_stats.items() if k != "by_category"},
                   "corpus_version": kb.version, **({"from_failures": mined["stats"]} if mined["stats"] else {})})
    job = Job(command=COMMAND, out=Path(opts.out), kind="deepsearch_task",
              config={**config, "corpus_version": kb.version}, items=opts.num, make_item=Items(),
              chunk_size=opts.chunk_size, stats=stats,
              inputs=[str(opts.from_failures)] if opts.from_failures else [])
    if teacher.spec.kind == "none":
        job.steps = [TemplateTasks(str(corpus), cfg, plan, opts.num, provenance)]
        return job
    from synth.pipelines.deepsearch.teacher import teacher_fields

    for key, value in teacher_fields(str(corpus), cfg, plan, opts, sizes, band, teacher, provenance).items():
        setattr(job, key, value)
    return job
