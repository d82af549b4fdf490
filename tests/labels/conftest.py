"""The label tests read the trajectory tests' session fixtures (one FOLDOC subset, built once per session)."""

from tests.trajectories.conftest import foldoc, gold, tiny  # noqa: F401 - fixtures, shared by name
