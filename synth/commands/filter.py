"""`synth filter IN... --out DIR`: quality filters, dedup (exact / MinHash / semantic / trajectory, also
against a persistent index of past runs) and benchmark decontamination, in one resumable run.

Without --dedup it is one datatrove pipeline: source -> filters -> decontam -> writer. With --dedup the
filters run inside the first of the dedup stages (filters.dedup.plan), which decide globally, and the main
pipeline applies their decisions. Every dropped record is a reject with a stable reason; duplicates name
the kept twin and the method, contaminated records the benchmark item.
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command, runtime
from synth.options import Formatted, RunOptions, chunk_size, flag, options, seed_flag

# Option groups in --help: each panel sizes its own columns, so one long flag name (--no-decontam-embedding)
# no longer squeezes every other flag's name and help at 80 columns.
QUALITY, DEDUP, DECONTAM, SWITCHES = "Quality filters", "Dedup", "Decontamination", "Switches"


@options
class FilterOptions(Formatted, RunOptions):
    inputs: list[Path] = flag(help="Synth dataset dirs, JSONL/JSON/Parquet files or folders.", argument=True)
    kind: str | None = flag(None, "Record kind of plain-file inputs (default: the input dataset's kind, else generic).")
    filters: str = flag("all", "all | none | a comma list of: schema, answer, tool_calls, refusal, repetition, "
                        "token_budget; opt-in for trajectories: verified, tool_errors (e.g. all,verified).",
                        cli=("--filters",), panel=QUALITY)
    dedup: str = flag("", "A comma list of: exact, minhash, semantic, trajectory (default: none).", cli=("--dedup",),
                      panel=DEDUP)
    decontam: list[Path] | None = flag(None, "Benchmark file (JSONL, JSON, Parquet or CSV; plain or encrypted); "
                                       "repeat or comma-separate.", cli=("--decontam",), panel=DECONTAM)
    index: Path | None = flag(None, "Persistent dedup index dir: dedup against past runs, then add this run's kept "
                              "records.", cli=("--index",), panel=DEDUP)
    max_tokens: int = flag(262144, "token_budget: drop records longer than this (0: no limit).", min=0, panel=QUALITY)
    min_tokens: int = flag(0, "token_budget: drop records shorter than this.", min=0, panel=QUALITY)
    tokenizer: Path | None = flag(None, "token_budget: local Hugging Face tokenizer dir (default: an estimate).",
                                  panel=QUALITY)
    semantic_threshold: float = flag(0.9, "semantic: cosine at or above which records are duplicates.", min=0.0,
                                     max=1.0, panel=DEDUP)
    neighbors: int = flag(16, "semantic: nearest neighbours examined per record.", min=1, panel=DEDUP)
    ann: str = flag("auto", "semantic: FAISS index auto | flat | ivf | hnsw.", panel=DEDUP)
    minhash_threshold: float = flag(0.5, "minhash: Jaccard of the word n-gram sets at which records are "
                                    "duplicates.", min=0.05, max=0.99, panel=DEDUP)
    minhash_ngrams: int = flag(3, "minhash: words per shingle.", min=1, panel=DEDUP)
    minhash_buckets: int = flag(0, "minhash: LSH bands (0: from --minhash-threshold).", min=0, panel=DEDUP)
    minhash_hashes: int = flag(0, "minhash: hashes per band (0: from --minhash-threshold).", min=0, panel=DEDUP)
    max_per_answer: int = flag(0, "trajectory: keep at most N records per answer entity (0: no cap).", min=0,
                               panel=DEDUP)
    decontam_ngram: int = flag(13, "decontam: n-gram length.", min=4, panel=DECONTAM)
    decontam_threshold: float = flag(0.9, "decontam: embedding cosine threshold.", min=0.0, max=1.0, panel=DECONTAM)
    decontam_window: int = flag(3, "decontam: also embed windows of up to N sentences of each record (0: whole "
                                "records only).", min=0, panel=DECONTAM)
    decontam_embedding: bool = flag(True, "decontam: also compare embeddings (default: on).",
                                    cli=("--decontam-embedding/--no-decontam-embedding",), panel=SWITCHES,
                                    show_default=False)
    embedding_model: str | None = flag(None, "Local sentence-transformers dir (default: bundled all-MiniLM-L6-v2).")
    batch_size: int = flag(1024, "Records per embedding call (sorted by length inside it).", min=1)
    strict: bool = flag(False, "An input with no records is an error (exit 2), not a warning.", cli=("--strict",),
                        panel=SWITCHES, runtime=True)
    seed: int = seed_flag()
    chunk_size: int = chunk_size(1000, "Records")


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


def run(opts: FilterOptions) -> dict:
    """Filter, deduplicate and decontaminate records; every drop is a reject with its reason."""
    from synth.dataset import read_manifest
    from synth.engine import run_job
    from synth.filters.report import print_table
    from synth.filters.setup import build_job

    _check_not_empty(opts.inputs, opts.strict)
    job = build_job(opts, _kind(opts.inputs, opts.kind), _split(opts.filters), _split(opts.dedup),
                    _split(opts.decontam))
    summary = run_job(job, runtime(opts))
    if summary.get("status") == "complete" and not opts.json_out:
        print_table((read_manifest(opts.out) or {}).get("stats", {}))
    return summary


def register(app: typer.Typer) -> None:
    command(app, "filter", FilterOptions, run)
