"""Small corpora built by the tests themselves (the full FOLDOC build is one `slow` test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.env.helpers import write_jsonl


@pytest.fixture(scope="session")
def tiny_jsonl(tmp_path_factory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("src") / "tiny.jsonl")


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory, tiny_jsonl) -> Path:
    """BM25 + dense (flat) corpus over DOCS; built once per session (~5 s: loading MiniLM)."""
    from synth.env.build import BuildConfig, build_corpus

    out = tmp_path_factory.mktemp("corpus") / "tiny"
    build_corpus(str(tiny_jsonl), out, BuildConfig(show_progress=False))
    return out
