"""A command given the wrong dataset kind names the kind it got and the command that makes the one it needs
(issue 24): `synth label turns <deepsearch tasks>` points at `synth generate trajectories`."""

from __future__ import annotations

from synth.dataset import read_records
from tests.core.helpers import synth, trajectory, write_jsonl

NEEDS = "this command needs trajectory records; make them with `synth generate trajectories` (or `synth import"


def test_a_task_dataset_given_to_label_turns(foldoc, tmp_path):
    _, tasks = foldoc
    res = synth("label", "turns", str(tasks), "--out", str(tmp_path / "labels"))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert f"{tasks}: this is a deepsearch_task dataset, but {NEEDS}" in res.stderr
    assert not (tmp_path / "labels").exists()


def test_task_records_in_a_plain_file_are_recognised(foldoc, tmp_path):
    _, tasks = foldoc
    plain = write_jsonl(tmp_path / "tasks.jsonl", list(read_records([tasks]))[:3])
    res = synth("label", "turns", str(plain), "--out", str(tmp_path / "labels"))
    assert res.returncode == 2 and f"{plain}:1: this is a deepsearch_task record, but {NEEDS}" in res.stderr


def test_a_record_of_no_known_kind_keeps_the_field_message(tmp_path):
    broken = {k: v for k, v in trajectory(0).items() if k != "messages"}
    plain = write_jsonl(tmp_path / "odd.jsonl", [broken])
    res = synth("label", "turns", str(plain), "--out", str(tmp_path / "labels"))
    assert res.returncode == 2 and "field 'messages'" in res.stderr and "this is a" not in res.stderr
