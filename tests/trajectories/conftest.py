"""Session fixtures of the trajectory tests (shared with tests/labels through tests/trajectories/fixtures.py)."""

from __future__ import annotations

import pytest

from tests.trajectories.fixtures import foldoc_setup, tiny_setup


@pytest.fixture(scope="session")
def foldoc(tmp_path_factory):
    """(corpus, tasks): a real FOLDOC subset and its deep-search tasks."""
    return foldoc_setup(tmp_path_factory.getbasetemp() / "issue6-foldoc")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """(corpus, tasks.jsonl): the 16-entry test encyclopedia and three question/answer tasks."""
    return tiny_setup(tmp_path_factory.getbasetemp() / "issue6-tiny")


@pytest.fixture(scope="session")
def gold(foldoc, tmp_path_factory):
    """Solver trajectories (2 rollouts per FOLDOC task; tasks the solver cannot solve are rejects)."""
    from tests.trajectories.fixtures import SOLVER_TASKS, gold_setup

    return gold_setup(tmp_path_factory.getbasetemp() / "issue6-foldoc", foldoc[0], SOLVER_TASKS)
