"""Paths and Arrow schemas of a CORPUS directory (the layout is described in `synth.env`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

LAYOUT_VERSION = 1

KIND = "corpus_document"  # schemas/corpus_document.schema.json: the record kind of data/
DOCS_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("title", pa.string()),
    ("text", pa.string()),
    ("updated_at", pa.string()),  # 'YYYY-MM-DDTHH:MM:SSZ', UTC
    ("categories", pa.list_(pa.string())),
    ("redirect_to", pa.string()),
])

LINKS_SCHEMA = pa.schema([
    ("src", pa.string()),
    ("dst", pa.string()),
    ("src_row", pa.int32()),
    ("dst_row", pa.int32()),
    ("anchor", pa.string()),
    ("start", pa.int32()),
    ("end", pa.int32()),
    ("target", pa.string()),
])

UNRESOLVED_SCHEMA = pa.schema([
    ("src", pa.string()),
    ("target", pa.string()),
    ("anchor", pa.string()),
    ("start", pa.int32()),
    ("end", pa.int32()),
])

DEGREES_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("row", pa.int32()),
    ("out_degree", pa.int32()),
    ("in_degree", pa.int32()),
    ("out_links", pa.int32()),
    ("in_links", pa.int32()),
])

TITLES_SCHEMA = pa.schema([
    ("title", pa.string()),
    ("id", pa.string()),
    ("article", pa.string()),
])



def rejects_schema() -> pa.Schema:
    """The Foundation's reject rows (schemas/reject.schema.json)."""
    from synth.arrow import arrow_schema

    return arrow_schema("reject")[0]


@dataclass(frozen=True)
class CorpusPaths:
    root: Path

    @property
    def card(self) -> Path:
        return self.root / "corpus.json"

    @property
    def documents(self) -> Path:
        return self.root / "data" / "documents.parquet"

    @property
    def docs_arrow(self) -> Path:
        return self.root / "lookup" / "docs.arrow"

    @property
    def titles(self) -> Path:
        return self.root / "lookup" / "titles.parquet"

    @property
    def links(self) -> Path:
        return self.root / "graph" / "links.parquet"

    @property
    def unresolved(self) -> Path:
        return self.root / "graph" / "unresolved.parquet"

    @property
    def degrees(self) -> Path:
        return self.root / "graph" / "degrees.parquet"

    @property
    def bm25(self) -> Path:
        return self.root / "index" / "bm25"

    @property
    def dense(self) -> Path:
        return self.root / "index" / "dense"

    @property
    def rejects(self) -> Path:
        return self.root / "rejects" / "documents.parquet"

    @property
    def staging(self) -> Path:
        return self.root / ".synth" / "build"

    @property
    def stages(self) -> Path:
        return self.root / ".synth" / "stages"
