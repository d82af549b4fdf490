"""`synth corpus build SOURCE --out CORPUS`: documents, link graph, BM25 and dense indexes.

SOURCE: `foldoc` (the Debian package dict-foldoc), a dictd `.index`/`.dict(.dz)`, a MediaWiki export
`.xml(.bz2)`, or JSONL / Parquet / a Hugging Face dataset folder with id, title, text. The CORPUS layout
is described in synth/env/__init__.py. Re-running the same command resumes; see synth/env/build.py.
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command, runtime
from synth.options import Executors, flag, options

INDEX_KINDS = ("auto", "flat", "ivf", "hnsw")


@options
class CorpusOptions(Executors):
    source: str = flag(help="foldoc | dictd .index/.dict(.dz) | MediaWiki .xml(.bz2) | JSONL/Parquet/HF folder with "
                       "id, title, text.", argument=True)
    out: Path = flag(help="Output corpus directory (re-running resumes it).", cli=("--out", "-o"), runtime=True)
    bm25: bool = flag(True, "Build the BM25 index.", cli=("--bm25/--no-bm25",))
    dense: bool = flag(True, "Encode with MiniLM and build a FAISS index.", cli=("--dense/--no-dense",))
    dense_index: str = flag("auto", "auto (flat up to --flat-max, IVF above) | flat | ivf | hnsw.",
                            choices=INDEX_KINDS)
    flat_max: int = flag(200_000, "Largest corpus searched exactly (flat index).", min=1)
    nlist: int = flag(0, "IVF lists (0: 2^round(log2(sqrt(n)))).", min=0)
    target_recall: float = flag(0.95, "recall@10 the IVF/HNSW search knob is calibrated to.", min=0.1, max=1.0)
    batch_size: int = flag(64, "Encoder batch size.", min=1)
    max_seq_length: int = flag(128, "Word pieces the encoder reads per passage.", min=16, max=512)
    max_passages: int = flag(32, "Sentences encoded per article (the first ones).", min=1)
    max_doc_bytes: int = flag(20_000_000, "Larger documents (JSONL: rows) become doc_too_large rejects, unread.",
                              min=1)


def run(opts: CorpusOptions) -> dict:
    """Build a search corpus (documents, link graph, BM25 + dense indexes) from SOURCE."""
    from synth.env.build import BuildConfig, build_corpus
    from synth.env.dense import DenseConfig

    cfg = BuildConfig(bm25=opts.bm25, dense=opts.dense, show_progress=not opts.json_out,
                      max_doc_bytes=opts.max_doc_bytes, runtime=runtime(opts), dense_config=DenseConfig(
        index=opts.dense_index, flat_max=opts.flat_max, nlist=opts.nlist or None, target_recall=opts.target_recall,
        batch_size=opts.batch_size, max_seq_length=opts.max_seq_length, max_passages=opts.max_passages))
    return build_corpus(opts.source, opts.out, cfg, force=opts.force)


def register(app: typer.Typer) -> None:
    command(app, "build", CorpusOptions, run)
