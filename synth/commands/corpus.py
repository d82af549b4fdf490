"""`synth corpus build SOURCE --out CORPUS`: documents, link graph, BM25 and dense indexes.

SOURCE: `foldoc` (the Debian package dict-foldoc), a dictd `.index`/`.dict(.dz)`, a MediaWiki export
`.xml(.bz2)`, or JSONL / Parquet / a Hugging Face dataset folder with id, title, text. The CORPUS layout
is described in synth/env/__init__.py. Re-running the same command resumes; see synth/env/build.py.
"""

from __future__ import annotations

from typing import Annotated

import typer

from synth.cli_common import ConfigFile, Executor, Force, JsonOut, Out, RayAddress, Workers, runtime, synth_command

INDEX_KINDS = ("auto", "flat", "ivf", "hnsw")


def register(app: typer.Typer) -> None:
    @app.command("build")
    @synth_command
    def build(
        ctx: typer.Context,
        source: Annotated[str, typer.Argument(help="foldoc | dictd .index/.dict(.dz) | MediaWiki .xml(.bz2) | "
                                                   "JSONL/Parquet/HF folder with id, title, text.")],
        out: Out,
        bm25: Annotated[bool, typer.Option("--bm25/--no-bm25", help="Build the BM25 index.")] = True,
        dense: Annotated[bool, typer.Option("--dense/--no-dense", help="Encode with MiniLM and build a FAISS index.")] = True,
        dense_index: Annotated[str, typer.Option(help="auto (flat up to --flat-max, IVF above) | flat | ivf | hnsw.")] = "auto",
        flat_max: Annotated[int, typer.Option(min=1, help="Largest corpus searched exactly (flat index).")] = 200_000,
        nlist: Annotated[int, typer.Option(min=0, help="IVF lists (0: 2^round(log2(sqrt(n)))).")] = 0,
        target_recall: Annotated[float, typer.Option(min=0.1, max=1.0, help="recall@10 the IVF/HNSW search knob is calibrated to.")] = 0.95,
        batch_size: Annotated[int, typer.Option(min=1, help="Encoder batch size.")] = 64,
        max_seq_length: Annotated[int, typer.Option(min=16, max=512, help="Word pieces the encoder reads per passage.")] = 128,
        max_passages: Annotated[int, typer.Option(min=1, help="Sentences encoded per article (the first ones).")] = 32,
        max_doc_bytes: Annotated[int, typer.Option(min=1, help="Larger documents (JSONL: rows) become doc_too_large "
                                                    "rejects, unread.")] = 20_000_000,
        executor: Executor = "local", workers: Workers = 1, ray_address: RayAddress = None,
        config: ConfigFile = None, json_out: JsonOut = False, force: Force = False,
    ):
        """Build a search corpus (documents, link graph, BM25 + dense indexes) from SOURCE."""
        params = dict(locals())
        from synth.env.build import BuildConfig, build_corpus
        from synth.env.dense import DenseConfig
        from synth.errors import UserError

        if dense_index not in INDEX_KINDS:
            raise UserError(f"--dense-index must be one of {', '.join(INDEX_KINDS)}, got {dense_index!r}")
        cfg = BuildConfig(bm25=bm25, dense=dense, show_progress=not json_out, max_doc_bytes=max_doc_bytes,
                          runtime=runtime(params), dense_config=DenseConfig(
            index=dense_index, flat_max=flat_max, nlist=nlist or None, target_recall=target_recall,
            batch_size=batch_size, max_seq_length=max_seq_length, max_passages=max_passages))
        return build_corpus(source, out, cfg, force=force)
