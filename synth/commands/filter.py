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
# Option groups in --help: each panel sizes its own columns, so one long flag name (--no-decontam-embedding)
# no longer squeezes every other flag's name and help at 80 columns.
QUALITY, DEDUP, DECONTAM, SWITCHES = "Quality filters", "Dedup", "Decontamination", "Switches"


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


def _check_not_empty(inputs: list[Path], strict: bool) -> None:
    """An empty input is most often a wrong path or a failed upstream step: say so (reads one record at most)."""
    from synth.dataset import iter_rows
    from synth.errors import UserError

    if next(iter_rows([str(p) for p in inputs]), None) is not None:
        return
    names = ", ".join(str(p) for p in inputs)
    if strict:
        raise UserError(f"no records in {names} (--strict)")
    typer.echo(f"warning: no records in {names}; writing an empty dataset (--strict makes this an error)", err=True)


def register(app: typer.Typer) -> None:
    @app.command("filter")
    @synth_command
    def filter_(
        ctx: typer.Context,
        inputs: Annotated[list[Path], typer.Argument(help="Synth dataset dirs, JSONL/JSON/Parquet files or folders.")],
        out: Out,
        kind: Annotated[str | None, Opt(help="Record kind of plain-file inputs (default: the input dataset's kind, else generic).")] = None,
        filters: Annotated[str, Opt("--filters", rich_help_panel=QUALITY, help="all | none | a comma list of: schema, answer, tool_calls, refusal, repetition, token_budget; opt-in for trajectories: verified, tool_errors (e.g. all,verified).")] = "all",
        dedup: Annotated[str, Opt("--dedup", rich_help_panel=DEDUP, help="A comma list of: exact, minhash, semantic, trajectory (default: none).")] = "",
        decontam: Annotated[list[Path] | None, Opt("--decontam", rich_help_panel=DECONTAM, help="Benchmark file (JSONL, JSON, Parquet or CSV; plain or encrypted); repeat or comma-separate.")] = None,
        index: Annotated[Path | None, Opt("--index", rich_help_panel=DEDUP, help="Persistent dedup index dir: dedup against past runs, then add this run's kept records.")] = None,
        max_tokens: Annotated[int, Opt(min=0, rich_help_panel=QUALITY, help="token_budget: drop records longer than this (0: no limit).")] = 262144,
        min_tokens: Annotated[int, Opt(min=0, rich_help_panel=QUALITY, help="token_budget: drop records shorter than this.")] = 0,
        tokenizer: Annotated[Path | None, Opt(rich_help_panel=QUALITY, help="token_budget: local Hugging Face tokenizer dir (default: an estimate).")] = None,
        semantic_threshold: Annotated[float, Opt(min=0.0, max=1.0, rich_help_panel=DEDUP, help="semantic: cosine at or above which records are duplicates.")] = 0.9,
        neighbors: Annotated[int, Opt(min=1, rich_help_panel=DEDUP, help="semantic: nearest neighbours examined per record.")] = 16,
        ann: Annotated[str, Opt(rich_help_panel=DEDUP, help="semantic: FAISS index auto | flat | ivf | hnsw.")] = "auto",
        minhash_threshold: Annotated[float, Opt(min=0.05, max=0.99, rich_help_panel=DEDUP, help="minhash: Jaccard of the word n-gram sets at which records are duplicates.")] = 0.5,
        minhash_ngrams: Annotated[int, Opt(min=1, rich_help_panel=DEDUP, help="minhash: words per shingle.")] = 3,
        minhash_buckets: Annotated[int, Opt(min=0, rich_help_panel=DEDUP, help="minhash: LSH bands (0: from --minhash-threshold).")] = 0,
        minhash_hashes: Annotated[int, Opt(min=0, rich_help_panel=DEDUP, help="minhash: hashes per band (0: from --minhash-threshold).")] = 0,
        max_per_answer: Annotated[int, Opt(min=0, rich_help_panel=DEDUP, help="trajectory: keep at most N records per answer entity (0: no cap).")] = 0,
        decontam_ngram: Annotated[int, Opt(min=4, rich_help_panel=DECONTAM, help="decontam: n-gram length.")] = 13,
        decontam_threshold: Annotated[float, Opt(min=0.0, max=1.0, rich_help_panel=DECONTAM, help="decontam: embedding cosine threshold.")] = 0.9,
        decontam_window: Annotated[int, Opt(min=0, rich_help_panel=DECONTAM, help="decontam: also embed windows of up to N sentences of each record (0: whole records only).")] = 3,
        decontam_embedding: Annotated[bool, Opt("--decontam-embedding/--no-decontam-embedding", rich_help_panel=SWITCHES, show_default=False, help="decontam: also compare embeddings (default: on).")] = True,
        embedding_model: Annotated[str | None, Opt(help="Local sentence-transformers dir (default: bundled all-MiniLM-L6-v2).")] = None,
        batch_size: Annotated[int, Opt(min=1, help="Records per embedding call (sorted by length inside it).")] = 1024,
        strict: Annotated[bool, Opt("--strict", rich_help_panel=SWITCHES, help="An input with no records is an error (exit 2), not a warning.")] = False,
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
        _check_not_empty(inputs, strict)
        job = build_job(params, _kind(inputs, kind), _split(filters), _split(dedup), _split(decontam))
        summary = run_job(job, runtime(params))
        if summary.get("status") == "complete" and not json_out:
            print_table((read_manifest(Path(out)) or {}).get("stats", {}))
        return summary
