"""Flags of `synth filter` -> a `Job`: which filters, which dedup stages, checked before any work starts
(a bad flag, benchmark file or index is one line and exit 2, never a failed worker)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from synth.filters import registry
from synth.filters.report import stats

from synth.engine import Job
from synth.errors import UserError

TRAJECTORY_KINDS = ("trajectory", "deepsearch_task")


def _check(params: dict, kind: str, methods: list[str]) -> None:
    from synth.filters import ann
    from synth.filters.dedup.plan import METHODS

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise UserError(f"--dedup: unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    if "trajectory" in methods and kind not in TRAJECTORY_KINDS:
        raise UserError(f"--dedup trajectory needs {' or '.join(TRAJECTORY_KINDS)} records, not {kind}")
    if params["max_per_answer"] and "trajectory" not in methods:
        raise UserError("--max-per-answer is part of trajectory dedup: add --dedup trajectory")
    if params["index"] and not methods:
        raise UserError("--index needs --dedup (it stores dedup signatures)")
    if params["fmt"] not in ("parquet", "jsonl"):
        raise UserError(f"--format must be parquet or jsonl, got {params['fmt']!r}")
    ann.choose(0, params["ann"])


def _front(params: dict, kind: str, names: list[str], decontam: list[str]) -> list:
    from synth.filters.decontam import DecontamStep

    steps = registry.build(names, kind, max_tokens=params["max_tokens"], min_tokens=params["min_tokens"],
                           tokenizer=str(params["tokenizer"]) if params["tokenizer"] else None)
    if decontam:
        from synth.filters import benchmarks

        benchmarks.load(decontam)  # bad or undecryptable files fail here, in the driver
        steps.append(DecontamStep(decontam, kind, params["decontam_ngram"], params["decontam_embedding"],
                                  params["decontam_threshold"], params["embedding_model"], params["batch_size"],
                                  params["decontam_window"]))
    return steps


def _plan(params: dict, kind: str, methods: list[str], front: list):
    from synth.filters import embed
    from synth.filters.dedup import index as ix
    from synth.filters.dedup.decide import DecideOptions
    from synth.filters.dedup.minhash import MinhashOptions
    from synth.filters.dedup.plan import DedupPlan

    minhash = MinhashOptions.for_threshold(params["minhash_threshold"], params["minhash_ngrams"],
                                           params["minhash_buckets"], params["minhash_hashes"])
    model = params["embedding_model"]
    settings = ix.settings(minhash.__dict__, model or embed.DEFAULT_MODEL)
    if params["index"]:
        ix.check(Path(params["index"]), settings)
    dim = embed.dimension(model) if "semantic" in methods else 0
    decide = DecideOptions(methods=methods, kind=kind, threshold=params["semantic_threshold"],
                           neighbors=params["neighbors"], ann=params["ann"], seed=params["seed"],
                           max_per_answer=params["max_per_answer"], dim=dim,
                           index=str(params["index"]) if params["index"] else None, index_settings=settings)
    return DedupPlan(methods, kind, front, decide, minhash, model, params["batch_size"])


def build_job(params: dict, kind: str, filters: list[str], methods: list[str], decontam: list[str]) -> Job:
    from synth.cli_common import shaping_config
    from synth.manifest import input_hash

    _check(params, kind, methods)
    names = registry.resolve(filters, kind)
    if (decontam and params["decontam_embedding"]) or "semantic" in methods:
        from synth.filters import embed

        embed.model_path(params["embedding_model"])
    front = _front(params, kind, names, decontam)
    config = shaping_config(params, "strict")  # --strict changes no output: not in the config hash
    config.update(kind=kind, filters=names, dedup=methods, decontam=[str(p) for p in decontam],
                  decontam_hashes=[input_hash(Path(p)) for p in decontam])
    job = Job(command="filter", out=params["out"], kind=kind, config=config,
              inputs=[str(p) for p in params["inputs"]], chunk_size=params["chunk_size"], fmt=params["fmt"],
              stats=partial(stats, filters=names, methods=methods, decontam=decontam))
    if methods:
        plan = _plan(params, kind, methods, front)
        job.stages, job.steps = plan.stages(), plan.main_steps(Path(params["out"]))
    else:
        job.steps = front
    return job
