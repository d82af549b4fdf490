"""Fixtures for the trainer tests (helpers live in trainer_data.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trainers.trainer_data import build_tokenizer


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tok")
    build_tokenizer(out)
    return out


@pytest.fixture(scope="session")
def tokenizer(tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tokenizer_dir)

