"""A re-run into an existing --out: a changed config names the flags that differ (old -> new); --force starts
the output again from scratch, the old one moved aside to OUT.old-* (issue 24)."""

import json

import polars as pl

from synth.rerun import config_changes, input_changes
from tests.core.helpers import synth, trajectory, write_jsonl


def _rows(out):
    return pl.read_parquet(str(out / "data" / "*.parquet")).height


def test_refused_rerun_names_the_flags_that_differ(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [trajectory(i) for i in range(6)])
    out = tmp_path / "out"
    assert synth("import", str(src), "--kind", "trajectory", "--out", str(out)).returncode == 0
    res = synth("import", str(src), "--kind", "generic", "--format", "jsonl", "--out", str(out))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "--format parquet -> jsonl" in res.stderr and "--kind trajectory -> generic" in res.stderr
    assert "--force" in res.stderr and "out.old-*" in res.stderr
    write_jsonl(src, [trajectory(i) for i in range(7)])  # same flags, new input content
    res = synth("import", str(src), "--kind", "trajectory", "--out", str(out))
    assert res.returncode == 2 and f"input {src} changed since the first run" in res.stderr


def test_force_starts_from_scratch_and_keeps_the_old_output_aside(tmp_path):
    few = write_jsonl(tmp_path / "few.jsonl", [trajectory(i) for i in range(4)])
    more = write_jsonl(tmp_path / "more.jsonl", [trajectory(i) for i in range(6)])
    out = tmp_path / "out"
    assert synth("import", str(few), "--kind", "trajectory", "--out", str(out)).returncode == 0
    res = synth("import", str(more), "--kind", "trajectory", "--out", str(out), "--force", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["counts"]["output"] == 6 and _rows(out) == 6
    manifest = json.loads((out / "manifest.json").read_text())
    assert [i["path"] for i in manifest["inputs"]] == [str(more)] and manifest["counts"]["output"] == 6
    (old,) = tmp_path.glob("out.old-*")
    assert _rows(old) == 4 and json.loads((old / "manifest.json").read_text())["inputs"][0]["path"] == str(few)
    assert str(old) in res.stderr
    again = synth("import", str(more), "--kind", "trajectory", "--out", str(out), "--force")
    assert again.returncode == 0 and len(list(tmp_path.glob("out.old-*"))) == 2  # never overwrites an old copy


def test_same_config_resumes_and_moves_nothing(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [trajectory(i) for i in range(3)])
    out = tmp_path / "out"
    assert synth("import", str(src), "--out", str(out)).returncode == 0
    assert synth("import", str(src), "--out", str(out)).returncode == 0  # same config: resumes, nothing moved
    assert not list(tmp_path.glob("out.old-*"))


def test_change_lists_are_readable():
    assert config_changes({"num": 4, "seed": 0, "x": "a"}, {"num": 6, "seed": 0, "y": "b"}) == [
        "--num 4 -> 6", "--x a -> unset", "--y unset -> b"]
    assert input_changes([{"path": "a", "hash": "1"}, {"path": "b", "hash": "2"}],
                         [{"path": "a", "hash": "9"}, {"path": "c", "hash": "3"}]) == [
        "input a changed since the first run", "input c added", "input b removed"]


def test_without_a_visible_difference_the_message_gives_the_hashes():
    from pathlib import Path

    from synth.rerun import refuse_changed

    same = refuse_changed(Path("o"), {"config": {"a": 1}, "inputs": [], "config_hash": "x"}, {"a": 1}, [], "y")
    assert "(the same flags and inputs, but config hash x -> y)" in str(same)
    legacy = refuse_changed(Path("o"), {"config_hash": "x"}, {"a": 1}, [], "y")  # state.json from before issue 24
    assert "(config hash x -> y)" in str(legacy) and "--force" in str(legacy)
