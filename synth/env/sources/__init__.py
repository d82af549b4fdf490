"""Corpus sources: each turns one input into a stream of `RawDoc`s (see `synth.env.records`).

`open_source(spec)` picks the reader:
    foldoc                       the Debian `dict-foldoc` package (found on its own)
    X.index | X.dict | X.dict.dz any dictd database
    X.xml | X.xml.bz2 | X.xml.gz a MediaWiki export
    X.jsonl | X.parquet | folder JSONL / Parquet / Hugging Face dataset folder with id, title, text
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from synth.env.records import RawDoc
from synth.errors import InputError

SOURCES = ("foldoc", "dictd", "mediawiki", "tabular")


def source_kind(spec: str) -> str:
    if spec == "foldoc":
        return "foldoc"
    if not Path(spec).exists():
        raise InputError(spec, None, "no such file or directory (sources: foldoc, a dictd .index/.dict(.dz), "
                                     "a MediaWiki .xml(.bz2), JSONL, Parquet or a dataset folder)")
    name = Path(spec).name
    if name.endswith((".index", ".dict", ".dict.dz")):
        return "dictd"
    if name.endswith((".xml", ".xml.bz2", ".xml.gz")):
        return "mediawiki"
    return "tabular"


def open_source(spec: str, max_doc_bytes: int | None = None) -> Iterator[RawDoc]:
    kind = source_kind(spec)
    if kind == "foldoc":
        from synth.env.sources.foldoc import iter_foldoc

        return iter_foldoc()
    if kind == "dictd":
        from synth.env.sources.foldoc import iter_dictd

        return iter_dictd(Path(spec))
    if kind == "mediawiki":
        from synth.env.sources.mediawiki import iter_mediawiki

        return iter_mediawiki(Path(spec))
    from synth.env.sources.tabular import iter_tabular

    return iter_tabular(Path(spec), max_doc_bytes) if max_doc_bytes else iter_tabular(Path(spec))
