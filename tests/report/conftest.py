"""Datasets of every kind, built once per session through the real engine (see report_data.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.report.report_data import BUILDERS, build, train_run

N = 60


@pytest.fixture(scope="session")
def datasets(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("report_datasets")
    found = {kind: build(kind, folder, N) for kind in BUILDERS}
    found["model"] = train_run(folder)
    return found


@pytest.fixture(scope="session")
def inputs(datasets) -> dict[str, list[dict]]:
    """The records each dataset was built from (the ground truth the report must reproduce)."""
    out = {}
    for kind, path in datasets.items():
        src = path.parent / f"{kind}.jsonl"
        if src.is_file():
            out[kind] = [json.loads(line) for line in src.read_text().splitlines()]
    return out
