"""The options of `synth filter` (synth.commands.filter.FilterOptions) -> a `Job`: which filters, which dedup stages, checked before any work starts
(a bad flag, benchmark file or index is one line and exit 2, never a failed worker)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from synth.filters import registry
from synth.filters.report import stats

from synth.engine import Job
from synth.errors import UserError

TRAJECTORY_KINDS = ("trajectory", "deepsearch_task")


def _check(opts, kind: str, methods: list[str]) -> None:
    from synth.filters import ann
    from synth.filters.dedup.plan import METHODS

    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise UserError(f"--dedup: unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    if "trajectory" in methods and kind not in TRAJECTORY_KINDS:
        raise UserError(f"--dedup trajectory needs {' or '.join(TRAJECTORY_KINDS)} records, not {kind}")
    if opts.max_per_answer and "trajectory" not in methods:
        raise UserError("--max-per-answer is part of trajectory dedup: add --dedup trajectory")
    if opts.index and not methods:
        raise UserError("--index needs --dedup (it stores dedup signatures)")
    ann.choose(0, opts.ann)


def _front(opts, kind: str, names: list[str], decontam: list[str]) -> list:
    from synth.filters.decontam import DecontamStep

    steps = registry.build(names, kind, max_tokens=opts.max_tokens, min_tokens=opts.min_tokens,
                           tokenizer=str(opts.tokenizer) if opts.tokenizer else None)
    if decontam:
        from synth.filters import benchmarks

        benchmarks.load(decontam)  # bad or undecryptable files fail here, in the driver
        steps.append(DecontamStep(decontam, kind, opts.decontam_ngram, opts.decontam_embedding,
                                  opts.decontam_threshold, opts.embedding_model, opts.batch_size,
                                  opts.decontam_window))
    return steps


def _plan(opts, kind: str, methods: list[str], front: list):
    from synth.filters import embed
    from synth.filters.dedup import index as ix
    from synth.filters.dedup.decide import DecideOptions
    from synth.filters.dedup.minhash import MinhashOptions
    from synth.filters.dedup.plan import DedupPlan

    minhash = MinhashOptions.for_threshold(opts.minhash_threshold, opts.minhash_ngrams,
                                           opts.minhash_buckets, opts.minhash_hashes)
    model = opts.embedding_model
    settings = ix.settings(minhash.__dict__, model or embed.DEFAULT_MODEL)
    if opts.index:
        ix.check(Path(opts.index), settings)
    dim = embed.dimension(model) if "semantic" in methods else 0
    decide = DecideOptions(methods=methods, kind=kind, threshold=opts.semantic_threshold,
                           neighbors=opts.neighbors, ann=opts.ann, seed=opts.seed,
                           max_per_answer=opts.max_per_answer, dim=dim,
                           index=str(opts.index) if opts.index else None, index_settings=settings)
    return DedupPlan(methods, kind, front, decide, minhash, model, opts.batch_size)


def build_job(opts, kind: str, filters: list[str], methods: list[str], decontam: list[str]) -> Job:
    from synth.manifest import input_hash
    from synth.options import shaping

    _check(opts, kind, methods)
    names = registry.resolve(filters, kind)
    if (decontam and opts.decontam_embedding) or "semantic" in methods:
        from synth.filters import embed

        embed.model_path(opts.embedding_model)
    front = _front(opts, kind, names, decontam)
    config = shaping(opts)
    config.update(kind=kind, filters=names, dedup=methods, decontam=[str(p) for p in decontam],
                  decontam_hashes=[input_hash(Path(p)) for p in decontam])
    job = Job(command="filter", out=opts.out, kind=kind, config=config,
              inputs=[str(p) for p in opts.inputs], chunk_size=opts.chunk_size, fmt=opts.fmt,
              stats=partial(stats, filters=names, methods=methods, decontam=decontam))
    if methods:
        plan = _plan(opts, kind, methods, front)
        job.stages, job.steps = plan.stages(), plan.main_steps(Path(opts.out))
    else:
        job.steps = front
    return job
