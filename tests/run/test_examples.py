"""The shipped pipelines parse, --dry-run prints their resolved commands in dependency order, and the two
flows that need no teacher run for real end to end (slow: minutes of CPU), twice: the second run is cached.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.run.helpers import run_json, synth

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipelines"
FLOWS = {
    "deepsearch.yaml": [("corpus", "synth corpus build foldoc"), ("generate", "synth generate deepsearch --corpus"),
                        ("trajectories", "synth generate trajectories --tasks"), ("label", "synth label turns"),
                        ("filter", "synth filter"), ("sft", "synth export trajectories"), ("train", "synth train --data")],
    "code.yaml": [("generate", "synth generate code --seeds"), ("filter", "synth filter"), ("train", "synth train --data")],
}


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_example_dry_runs_in_order(tmp_path, name):
    code, summary, stderr = run_json(EXAMPLES / name, "--dry-run", "--workdir", str(tmp_path / "w"))
    assert code == 0, stderr
    rows = summary["stages"]
    assert [(r["name"], r["command"][:len(prefix)]) for r, (_, prefix) in zip(rows, FLOWS[name])] == FLOWS[name]
    assert len(rows) == len(FLOWS[name]) and {r["status"] for r in rows} == {"will run"}
    for previous, row in itertools.pairwise(rows):  # each stage reads the one before it
        assert previous["name"] in row["needs"] and previous["out"] in row["argv"]
        assert previous["out"] == str(tmp_path / "w" / previous["name"])
    for row in rows:  # every file the pipeline names (seeds, benchmark lists) resolves next to the file
        flags = dict(zip(row["argv"], row["argv"][1:]))
        for flag in ("--seeds", "--decontam"):
            if flag in flags:
                assert Path(flags[flag]).is_file(), flags[flag]
    assert not (tmp_path / "w").exists()  # a dry run writes nothing


def test_example_text_dry_run_lists_the_commands(tmp_path):
    res = synth("run", str(EXAMPLES / "code.yaml"), "--dry-run", "--workdir", str(tmp_path))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert [line.split(" (")[0] for line in lines[::2]] == ["# generate", "# filter", "# train"]
    assert all(line.startswith("synth ") for line in lines[1::2])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FLOWS))
def test_example_runs_end_to_end_and_then_is_cached(tmp_path, name):
    """The shipped flow on the embedded defaults (FOLDOC / seed problems, no teacher, tiny model on CPU, the
    tokenizer built by `synth train`): every stage runs, every dataset validates, a re-run is all cached."""
    code, summary, stderr = run_json(EXAMPLES / name, "--workdir", str(tmp_path / "w"))
    assert code == 0, stderr[-3000:]
    assert {r["status"] for r in summary["stages"]} == {"ran"}
    for row in summary["stages"][:-1]:
        if row["name"] != "corpus":
            assert synth("validate", row["out"]).returncode == 0, row["name"]
            assert row["counts"]["output"] > 0, row
    model = Path(summary["stages"][-1]["out"])
    assert (model / "tokenizer.json").is_file() and (model / "config.json").is_file()
    code, again, stderr = run_json(EXAMPLES / name, "--workdir", str(tmp_path / "w"))
    assert code == 0 and {r["status"] for r in again["stages"]} == {"cached"}, stderr[-3000:]
