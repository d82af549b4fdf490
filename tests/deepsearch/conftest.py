"""Corpora for the deep-search tests: built once per session, BM25 only (no encoder to load)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_executors import ray_cluster  # noqa: F401 - a fixture, shared with the core tests
from tests.deepsearch.corpus import build, foldoc_subset_rows, mini_rows

FOLDOC_STARTS = ("Python", "Lisp", "Pascal", "Unix", "Ethernet", "Smalltalk", "Prolog", "TCP/IP", "Intel 80386",
                 "SQL", "Emacs", "X Window System")


def need_foldoc() -> None:
    from synth.env.sources.foldoc import find_foldoc
    from synth.errors import UserError

    try:
        find_foldoc()
    except UserError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def mini_corpus(tmp_path_factory) -> Path:
    return build(mini_rows(), tmp_path_factory.mktemp("ds") / "mini")


@pytest.fixture(scope="session")
def mini_kb(mini_corpus):
    from synth.pipelines.deepsearch.kb import KB

    return KB(mini_corpus)


@pytest.fixture(scope="session")
def foldoc_corpus(tmp_path_factory) -> Path:
    """~900 real FOLDOC entries around a few well-linked seeds (needs the Debian package dict-foldoc)."""
    need_foldoc()
    return build(foldoc_subset_rows(FOLDOC_STARTS, 900), tmp_path_factory.mktemp("ds") / "foldoc")


@pytest.fixture(scope="session")
def foldoc_full(tmp_path_factory) -> Path:
    """The whole FOLDOC corpus, BM25 only (needs dict-foldoc; ~15 s to build)."""
    from tests.core.helpers import synth

    need_foldoc()
    out = tmp_path_factory.mktemp("foldoc") / "corpus"
    res = synth("corpus", "build", "foldoc", "--out", str(out), "--no-dense", "--json", timeout=900)
    assert res.returncode == 0, res.stderr
    return out
