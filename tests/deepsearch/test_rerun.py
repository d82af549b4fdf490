"""The issue-24 case: `generate deepsearch --num 4 --seed 0`, then `--num 6 --seed 1`: refused naming both flags;
with --force the output is made again (6 seed-1 tasks, a manifest that says so), the 4 old ones moved aside."""

from __future__ import annotations

import json

import pytest

from synth.dataset import read_records
from tests.core.helpers import synth


def _generate(corpus, out, *extra):
    return synth("generate", "deepsearch", "--corpus", str(corpus), "--out", str(out), "--json", *extra,
                 env={"PYTHONHASHSEED": "1"})


@pytest.mark.slow  # three generate runs, ~15 s on 2 cores
def test_force_remakes_the_output_the_manifest_describes(foldoc_corpus, tmp_path):
    out = tmp_path / "X"
    assert _generate(foldoc_corpus, out, "--num", "4", "--seed", "0").returncode == 0
    old_ids = sorted(t["id"] for t in read_records([out]))
    refused = _generate(foldoc_corpus, out, "--num", "6", "--seed", "1")
    assert refused.returncode == 2 and "--num 4 -> 6" in refused.stderr and "--seed 0 -> 1" in refused.stderr
    forced = _generate(foldoc_corpus, out, "--num", "6", "--seed", "1", "--force")
    assert forced.returncode == 0, forced.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["num"] == 6 and manifest["config"]["seed"] == 1
    new_ids = sorted(t["id"] for t in read_records([out]))
    assert json.loads(forced.stdout)["counts"]["output"] == manifest["counts"]["output"] == len(new_ids) > 4
    assert not set(new_ids) & set(old_ids)  # seed-1 tasks, not the seed-0 ones under a new manifest
    (moved,) = tmp_path.glob("X.old-*")
    assert sorted(t["id"] for t in read_records([moved])) == old_ids
