"""Fixtures shared by every test area.

Tests build their own tiny models and data; the only data they read from disk is the small real
public sample in tests/data/shared (a copy of the team's shared/data, licences in its SOURCES.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real public data: agent trajectories, multi-hop QA, benchmark lists (see SOURCES.md)."""
    path = REPO / "tests" / "data" / "shared"
    if not path.is_dir():
        pytest.skip(f"real-data sample missing: {path.relative_to(REPO)}")
    return path
