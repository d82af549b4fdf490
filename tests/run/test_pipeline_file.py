"""Pipeline files: YAML and TOML, interpolation, the DAG, and one clear line (exit 2) for every mistake."""

from __future__ import annotations

import pytest

from synth.run.file import PipelineError, downstream, load, resolve, select
from tests.run.helpers import chain, synth, write_pipeline

TOML = """
workdir = "out"
[vars]
n = 3
files = ["a.jsonl", "b.jsonl"]
[stages.make]
command = "synth import"
args = ["${vars.files}"]
[stages.make.flags]
chunk-size = "${vars.n}"
[stages.use]
command = "validate"
args = ["${stages.make.out}"]
"""


def test_toml_and_yaml_mean_the_same(tmp_path):
    toml = tmp_path / "p.toml"
    toml.write_text(TOML)
    yml = write_pipeline(tmp_path / "p.yaml", {
        "workdir": "out", "vars": {"n": 3, "files": ["a.jsonl", "b.jsonl"]},
        "stages": {"make": {"command": "synth import", "args": ["${vars.files}"], "flags": {"chunk-size": "${vars.n}"}},
                   "use": {"command": "validate", "args": ["${stages.make.out}"]}}})
    a, b = load(toml), load(yml)
    for pl in (a, b):
        assert pl.order == ["make", "use"] and pl.workdir == tmp_path / "out"
        make = pl.stages["make"]
        assert make.command == ["import"] and make.args == ["a.jsonl", "b.jsonl"]
        assert make.flags == {"chunk-size": 3}  # a whole-value reference keeps the type
        assert pl.stages["use"].needs == ["make"]
    assert a.stages["use"].args == b.stages["use"].args == ["${stages.make.out}"]


def test_interpolation_inside_strings_and_escapes(tmp_path):
    pl = load(write_pipeline(tmp_path / "p.yaml", {"vars": {"name": "x", "n": 2}, "stages": {
        "a": {"command": "import", "args": ["data/${vars.name}-${vars.n}.jsonl"]},
        "b": {"command": "import", "args": ["${stages.a.out}/data", "$${stages.a.out}", "$${HOME}"]}}}))
    assert pl.stages["a"].args == ["data/x-2.jsonl"]
    assert pl.stages["b"].needs == ["a"]  # the escaped reference is no dependency
    outs = {"a": tmp_path / "w" / "a"}
    assert resolve(pl.stages["b"].args, outs) == [f"{tmp_path}/w/a/data", "${stages.a.out}", "${HOME}"]
    assert pl.workdir == tmp_path / "runs" / "p"  # the default: runs/<file stem> next to the file


def test_dependency_order_is_stable_and_respects_after(tmp_path):
    pl = load(write_pipeline(tmp_path / "p.yaml", {"stages": {
        "train": {"command": "train", "flags": {"data": ["${stages.filter.out}"]}, "after": ["check"]},
        "gen": {"command": "generate code"},
        "filter": {"command": "filter", "args": ["${stages.gen.out}"]},
        "check": {"command": "validate", "args": ["${stages.filter.out}"]}}}))
    assert pl.order == ["gen", "filter", "check", "train"]
    assert downstream(pl, "filter") == {"filter", "check", "train"}
    assert select(pl, [], "check") == {"check", "train"}
    assert select(pl, ["gen"], None) == {"gen"}


@pytest.mark.parametrize("stages, message", [
    ({"a": {"command": "import", "args": ["${stages.b.out}"]}, "b": {"command": "import", "args": ["${stages.a.out}"]}},
     "dependency cycle: a -> b -> a"),
    ({"a": {"command": "import", "after": ["a"]}}, "dependency cycle: a -> a"),
    ({"a": {"command": "import", "args": ["${stages.nope.out}"]}}, "stage 'a': unknown stage 'nope' in ${stages.nope.out}"),
    ({"a": {"command": "import", "after": ["nope"]}}, "stage 'a': unknown stage 'nope' in after"),
    ({"a": {"command": "import", "flags": {"x": "${HOME}/x"}}}, "only ${stages.NAME.out} and ${vars.NAME} exist"),
    ({"a": {"command": "import", "flags": {"x": "${vars.missing}"}}}, "unknown var 'missing'"),
    ({"a": {"command": "import", "flgas": {}}}, "stage 'a': unknown key(s) flgas"),
    ({"a": {"args": ["x"]}}, "stage 'a': 'command' must name a synth command"),
    ({"a b": {"command": "import"}}, "stage name 'a b'"),
    ({"a": {"command": "import", "flags": {"x": {"y": 1}}}}, "not a mapping"),
    ({"a": {"command": "import", "out": "x", "flags": {"out": "y"}}}, "not both"),
])
def test_mistakes_are_one_clear_line(tmp_path, stages, message):
    path = write_pipeline(tmp_path / "p.yaml", {"stages": stages})
    with pytest.raises(PipelineError) as info:
        load(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_cycle_through_the_cli_exits_2_with_one_line(tmp_path):
    spec = chain()
    spec["stages"]["first"]["after"] = ["check"]
    path = write_pipeline(tmp_path / "p.yaml", spec)
    res = synth("run", str(path), "--dry-run")
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [f"error: {path}: dependency cycle: first -> check -> second -> first"]


@pytest.mark.parametrize("text, message", [
    ("stages: [", "cannot parse"),
    ("- a\n- b\n", "a pipeline file is a mapping"),
    ("stages: {}\n", "'stages' must be a non-empty mapping"),
    ("stages: {a: {command: import}}\nworkdri: x\n", "unknown top-level key(s) workdri"),
    ("vars: {a: '${vars.b}'}\nstages: {a: {command: import}}\n", "vars are literal values"),
])
def test_malformed_files(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PipelineError, match=None) as info:
        load(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_stage_in_only_or_from(tmp_path):
    pl = load(write_pipeline(tmp_path / "p.yaml", chain()))
    with pytest.raises(PipelineError, match="no stage 'nope'"):
        select(pl, ["nope"], None)
    with pytest.raises(PipelineError, match="not both"):
        select(pl, ["first"], "second")
