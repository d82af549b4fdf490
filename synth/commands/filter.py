"""`synth filter IN... --out DIR`: quality filters, dedup (exact / MinHash / semantic / trajectory, also
against a persistent index of past runs) and benchmark decontamination, in one resumable run.

Without --dedup it is one datatrove pipeline: source -> filters -> decontam -> writer. With --dedup the
filters run inside the first of the dedup stages (filters.dedup.plan), which decide globally, and the main
pipeline applies their decisions. Every dropped record is a reject with a stable reason; duplicates name
the kept twin and the method, contaminated records the benchmark item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synth.cli_common import (
    ConfigFile,
    Executor,
    Force,
    Format,
    JsonOut,
    Out,
    RayAddress,
    Seed,
    SlurmPartition,
    SlurmTime,
    Tasks,
    Workers,
    check_format,
    runtime,
    synth_command,
)

Opt = typer.Option


def _split(values) -> list[str]:
    if isinstance(values, str):
        values = [values]
    return [v.strip() for value in values or [] for v in str(value).split(",") if v.strip()]


def _kind(inputs: list[Path], flag: str | None) -> str:
    from synth import schemas
    from synth.dataset import dataset_kind, is_dataset_dir
    from synth.engine import known_kind
    from synth.errors import UserError

    stored = {str(p): dataset_kind(p) for p in inputs if is_dataset_dir(Path(p))}
    kinds = set(stored.values())
    if len(kinds) > 1:
        raise UserError(f"inputs hold different record kinds: {', '.join(f'{p} ({k})' for p, k in stored.items())}")
    if flag and kinds and flag not in kinds:
        raise UserError(f"--kind {flag} contradicts the input dataset's kind {kinds.pop()}")
    return known_kind(flag or (kinds.pop() if kinds else schemas.GENERIC))


def register(app: typer.Typer) -> None:
    @app.command("filter")
    @synth_command
    def filter_(
        ctx: typer.Context,
        inputs: Annotated[list[Path], typer.Argument(help="Synth dataset dirs, JSONL/JSON/Parquet files or folders.")],
        out: Out,
        kind: Annotated[str | None, Opt(help="Record kind of plain-file inputs (default: the input dataset's kind, else generic).")] = None,
        filters: Annotated[str, Opt("--filters", help="Quality filters: all | none | comma list (schema,answer,tool_calls,refusal,repetition,token_budget; opt-in for trajectories: verified,tool_errors, e.g. all,verified).")] = "all",
        dedup: Annotated[str, Opt("--dedup", help="Comma list of exact,minhash,semantic,trajectory (default: none).")] = "",
        decontam: Annotated[list[Path] | None, Opt("--decontam", help="Benchmark file (JSONL/JSON/Parquet/CSV, plain or encrypted); repeat or comma-separate.")] = None,
        index: Annotated[Path | None, Opt("--index", help="Persistent dedup index dir: dedup against past runs, then add this run's kept records.")] = None,
        max_tokens: Annotated[int, Opt(min=0, help="token_budget: drop records longer than this (0: no limit).")] = 262144,
        min_tokens: Annotated[int, Opt(min=0, help="token_budget: drop records shorter than this.")] = 0,
        tokenizer: Annotated[Path | None, Opt(help="token_budget: local Hugging Face tokenizer dir (default: an estimate).")] = None,
        semantic_threshold: Annotated[float, Opt(min=0.0, max=1.0, help="semantic: cosine at or above which records are duplicates.")] = 0.9,
        neighbors: Annotated[int, Opt(min=1, help="semantic: nearest neighbours examined per record.")] = 16,
        ann: Annotated[str, Opt(help="semantic: FAISS index auto | flat | ivf | hnsw.")] = "auto",
        minhash_ngrams: Annotated[int, Opt(min=1, help="minhash: words per shingle.")] = 5,
        minhash_buckets: Annotated[int, Opt(min=1, help="minhash: LSH bands.")] = 14,
        minhash_hashes: Annotated[int, Opt(min=1, help="minhash: hashes per band.")] = 8,
        max_per_answer: Annotated[int, Opt(min=0, help="trajectory: keep at most N records per answer entity (0: no cap).")] = 0,
        decontam_ngram: Annotated[int, Opt(min=4, help="decontam: n-gram length.")] = 13,
        decontam_threshold: Annotated[float, Opt(min=0.0, max=1.0, help="decontam: embedding cosine threshold.")] = 0.9,
        decontam_embedding: Annotated[bool, Opt("--decontam-embedding/--no-decontam-embedding", help="decontam: also compare embeddings.")] = True,
        embedding_model: Annotated[str | None, Opt(help="Local sentence-transformers dir (default: bundled all-MiniLM-L6-v2).")] = None,
        batch_size: Annotated[int, Opt(min=1, help="Records per embedding call (sorted by length inside it).")] = 1024,
        seed: Seed = 0,
        fmt: Format = "parquet",
        chunk_size: Annotated[int, Opt("--chunk-size", min=1, help="Records per commit (the resume unit).")] = 1000,
        config: ConfigFile = None, executor: Executor = "local", workers: Workers = 1, tasks: Tasks = None,
        json_out: JsonOut = False, force: Force = False, ray_address: RayAddress = None,
        slurm_partition: SlurmPartition = None, slurm_time: SlurmTime = None,
    ):
        """Filter, deduplicate and decontaminate records; every drop is a reject with its reason."""
        params = dict(locals())  # first statement: exactly the (config-merged) flags
        from synth.dataset import read_manifest
        from synth.engine import run_job
        from synth.filters.report import print_table
        from synth.filters.setup import build_job

        check_format(fmt)
        job = build_job(params, _kind(inputs, kind), _split(filters), _split(dedup), _split(decontam))
        summary = run_job(job, runtime(params))
        if summary.get("status") == "complete" and not json_out:
            print_table((read_manifest(Path(out)) or {}).get("stats", {}))
        return summary
