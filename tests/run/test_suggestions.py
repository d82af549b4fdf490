"""Pipeline-file typos get a "did you mean" (flags, commands, stage names, keys, vars), and --dry-run refuses a
command this install does not have instead of planning it (issue 24)."""

from __future__ import annotations

import pytest

from synth.run.file import PipelineError, did_you_mean, load, select
from tests.run.helpers import chain, synth, write_pipeline
from tests.run.test_argv import _plans


def test_dry_run_refuses_a_misspelt_command_and_names_the_right_one(tmp_path):
    spec = chain()
    spec["stages"]["label"] = {"command": "label turn", "args": ["${stages.second.out}"]}
    path = write_pipeline(tmp_path / "p.yaml", spec)
    res = synth("run", str(path), "--dry-run")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert (f"{path}: stage 'label': 'synth label turn' is not a synth command (did you mean 'synth label turns'?)"
            in res.stderr)


def test_a_misspelt_flag_names_the_closest_one(tmp_path):
    with pytest.raises(PipelineError, match=r"'synth import' has no flag 'chunk-szie' \(did you mean 'chunk-size'\?\)"):
        _plans(tmp_path, {"a": {"command": "import", "args": ["x.jsonl"], "flags": {"chunk-szie": 5}}})
    with pytest.raises(PipelineError, match=r"has no flag 'zzz' \(flags:"):  # nothing close: no guess
        _plans(tmp_path, {"a": {"command": "import", "args": ["x.jsonl"], "flags": {"zzz": 5}}})


def test_misspelt_stage_names_keys_and_vars(tmp_path):
    stages = {"first": {"command": "import", "args": ["x.jsonl"]},
              "second": {"command": "validate", "args": ["${stages.frist.out}"]}}
    with pytest.raises(PipelineError, match=r"unknown stage 'frist' .*\(did you mean 'first'\?\)"):
        _plans(tmp_path, stages)
    with pytest.raises(PipelineError, match=r"unknown key\(s\) flgas \(did you mean 'flags'\?\)"):
        _plans(tmp_path, {"a": {"command": "import", "flgas": {}}})
    with pytest.raises(PipelineError, match=r"unknown var 'chunck' .*\(did you mean 'chunk'\?\)"):
        _plans(tmp_path, {"a": {"command": "import", "args": ["${vars.chunck}"]}}, vars={"chunk": 1})
    pl = load(write_pipeline(tmp_path / "ok.yaml", chain()))
    with pytest.raises(PipelineError, match=r"no stage 'secnd' \(did you mean 'second'\?\)"):
        select(pl, ["secnd"], None)


def test_did_you_mean_only_when_close():
    assert did_you_mean("turn", ["turns", "pairwise"]) == " (did you mean 'turns'?)"
    assert did_you_mean("xyz", ["turns", "pairwise"]) == ""
