"""The reader names the kind it got and the command that makes the kind needed (issue 24)."""

import pytest

from synth.dataset import read_records
from synth.errors import InputError
from tests.core.helpers import synth, trajectory, write_jsonl


def test_a_trajectory_dataset_read_as_preference_pairs(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [trajectory(i) for i in range(2)])
    out = tmp_path / "traj"
    assert synth("import", str(src), "--kind", "trajectory", "--out", str(out)).returncode == 0
    with pytest.raises(InputError, match=r"this is a trajectory dataset, but this command needs preference_pair "
                                         r"records; make them with `synth judge pairwise`"):
        next(read_records([out], "preference_pair"))
    with pytest.raises(InputError, match=r"in.jsonl:1: this is a trajectory record, but .* `synth judge pairwise`"):
        next(read_records([src], "preference_pair"))
    assert len(list(read_records([out], "trajectory"))) == 2  # the right kind reads as before
