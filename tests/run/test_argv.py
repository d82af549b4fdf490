"""Stages as command lines: flag spellings, lists, booleans, paths, and checks by the command's own parser."""

from __future__ import annotations

import pytest

from synth.run.argv import _render, outputs, plan
from synth.run.cache import spec_key
from synth.run.file import PipelineError, load
from tests.run.helpers import write_pipeline


def _plans(tmp_path, stages: dict, **top) -> dict:
    pl = load(write_pipeline(tmp_path / "p.yaml", {"workdir": "w", **top, "stages": stages}))
    outs = outputs(pl)
    return {n: plan(pl, pl.stages[n], outs) for n in pl.order}


def test_flag_spellings_lists_booleans_and_paths(tmp_path):
    (tmp_path / "cfg.toml").write_text("kind = 'trajectory'\n")
    plans = _plans(tmp_path, {"a": {"command": "import", "args": ["x.jsonl", "y.jsonl"], "flags": {
        "--kind": "trajectory", "chunk_size": 5, "format": "jsonl", "json": True, "force": False,
        "config": "cfg.toml", "ray-address": None}}})
    a = plans["a"]
    assert a.argv == ["import", "x.jsonl", "y.jsonl", "--kind", "trajectory", "--chunk-size", "5", "--format", "jsonl",
                      "--json", "--config", str(tmp_path / "cfg.toml"), "--out", str(tmp_path / "w" / "a")]
    assert a.available and a.out == tmp_path / "w" / "a"
    assert a.spec["flags"] == {"config": "cfg.toml", "fmt": "jsonl", "kind": "trajectory"}  # runtime flags left out


def test_arguments_by_name_and_stage_references(tmp_path):
    plans = _plans(tmp_path, {
        "a": {"command": "import", "flags": {"inputs": ["in.jsonl", "more.jsonl"]}},
        "b": {"command": "validate", "flags": {"target": "${stages.a.out}", "max_errors": 3}},
    })
    assert plans["a"].argv[:3] == ["import", "in.jsonl", "more.jsonl"]
    assert plans["b"].argv == ["validate", str(tmp_path / "w" / "a"), "--max-errors", "3"]
    assert plans["b"].out is None and plans["b"].values == [str(tmp_path / "w" / "a")]
    assert plans["b"].spec["args"] == ["${stages.a.out}"]  # the cache key does not depend on where workdir is


def test_cache_key_ignores_runtime_flags_and_the_workdir(tmp_path):
    base = {"command": "import", "args": ["in.jsonl"], "flags": {"kind": "trajectory"}}
    one = spec_key(_plans(tmp_path, {"a": base})["a"])
    faster = spec_key(_plans(tmp_path, {"a": {**base, "flags": {"kind": "trajectory", "workers": 4}}})["a"])
    moved = spec_key(_plans(tmp_path, {"a": base}, workdir="elsewhere")["a"])
    changed = spec_key(_plans(tmp_path, {"a": {**base, "flags": {"kind": "generic"}}})["a"])
    assert one == faster == moved != changed


@pytest.mark.parametrize("stage, message", [
    ({"command": "import", "args": ["x"], "flags": {"kindd": "x"}}, "'synth import' has no flag 'kindd' (did you mean 'kind'?) (flags: "),
    ({"command": "import", "args": ["x"], "flags": {"chunk-size": "many"}}, "Invalid value for '--chunk-size'"),
    ({"command": "import"}, "Missing argument"),
    ({"command": "import", "args": ["x"], "flags": {"inputs": "y"}}, "either as 'args' or by name"),
    ({"command": "run", "args": ["p.yaml"]}, "a stage cannot run 'synth run'"),
])
def test_bad_stages_fail_before_anything_runs(tmp_path, stage, message):
    with pytest.raises(PipelineError) as info:
        _plans(tmp_path, {"a": stage})
    assert "stage 'a': " in str(info.value) and message in str(info.value)


def test_a_reference_to_a_stage_without_output_is_refused(tmp_path):
    with pytest.raises(PipelineError, match=r"stage 'check' has no --out"):
        _plans(tmp_path, {"check": {"command": "validate", "args": ["d"]},
                          "b": {"command": "import", "args": ["${stages.check.out}"]}})


@pytest.mark.parametrize("stages, message", [
    ({"a": {"command": "import", "args": ["x"]}, "b": {"command": "import", "args": ["y"], "out": "w/a"}},
     "stages 'a' and 'b' write into the same folder"),
    ({"a": {"command": "import", "args": ["x"], "out": "w/a"}, "b": {"command": "import", "args": ["y"], "out": "w/a/sub"}},
     "stages 'a' and 'b' write into the same folder"),
    ({"a": {"command": "import", "args": ["x"], "out": "."}}, "would hold the pipeline or its workdir"),
])
def test_outputs_never_overlap(tmp_path, stages, message):
    with pytest.raises(PipelineError, match=message):
        _plans(tmp_path, stages)


def test_commands_not_in_this_install_render_generically(tmp_path):
    plans = _plans(tmp_path, {"g": {"command": "generate nothing", "flags": {
        "seeds": "seeds.jsonl", "num": 4, "teacher": "none", "decontam": ["a.jsonl", "b.jsonl"], "verbose": True,
        "quiet": False}}})
    g = plans["g"]
    assert not g.available
    assert g.argv == ["generate", "nothing", "--seeds", "seeds.jsonl", "--num", "4", "--teacher", "none",
                      "--decontam", "a.jsonl", "--decontam", "b.jsonl", "--verbose", "--out", str(tmp_path / "w" / "g")]


def test_rendering_rules():
    assert _render("--bm25", False, multiple=False, flag_no="--no-bm25", is_flag=True) == ["--no-bm25"]
    assert _render("--bm25", True, multiple=False, flag_no="--no-bm25", is_flag=True) == ["--bm25"]
    assert _render("--dedup", ["exact", "minhash"], multiple=False, flag_no=None) == ["--dedup", "exact,minhash"]
    assert _render("--data", ["a", "b"], multiple=True, flag_no=None) == ["--data", "a", "--data", "b"]
    assert _render("--strict", False, multiple=False, flag_no=None) == ["--strict", "false"]
    assert _render("--x", None, multiple=False, flag_no=None) == []
