"""Issue 28, points 1-2: datasets prove their integrity; resume repairs or refuses damage."""

import os
import shutil

import pytest

from synth import integrity
from synth.dataset import iter_rows, read_manifest
from synth.errors import InputError
from synth.repair import repair_output
from tests.core.helpers import synth
from tests.reliability import damage


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    work = tmp_path_factory.mktemp("integrity")
    src = damage.make_input(work)
    clean = work / "clean"
    result = damage.produce(src, clean)
    assert result.returncode == 0, result.stderr
    return src, clean


def _copy(clean, tmp_path, how):
    copy = tmp_path / "copy"
    shutil.copytree(clean, copy)
    how(copy)
    return copy


def test_manifest_certifies_every_shard(made):
    _, clean = made
    manifest = read_manifest(clean)
    assert sum(s["rows"] for s in manifest["shards"]) == manifest["counts"]["output"] == 150
    assert integrity.dataset_problems(clean, deep=True) == []


@pytest.mark.parametrize("case", ["truncated shard", "deleted shard", "duplicated shard (synth name)",
                                  "half-rows shard (valid parquet)"])
def test_damaged_shard_is_named_and_refused_by_readers(made, tmp_path, case, monkeypatch):
    copy = _copy(made[1], tmp_path, damage.CASES[case][0])
    problems = integrity.dataset_problems(copy)
    assert problems and ("00000_00001.parquet" in problems[0] or "00000_00099.parquet" in problems[0])
    monkeypatch.setenv(integrity.ENV, "fast")
    with pytest.raises(InputError, match="damaged dataset"):
        list(iter_rows([copy]))


def test_deep_check_catches_same_size_rewrite(made, tmp_path):
    def flip_a_byte(out):
        path = out / "data" / "00000_00000.parquet"
        raw = bytearray(path.read_bytes())
        raw[100] ^= 0xFF  # inside a data page: size and footer unchanged
        path.write_bytes(bytes(raw))

    copy = _copy(made[1], tmp_path, flip_a_byte)
    assert integrity.dataset_problems(copy, deep=False) == []
    assert "content hash" in integrity.dataset_problems(copy, deep=True)[0]


def test_no_verify_reads_damaged_input(made, tmp_path, monkeypatch):
    copy = _copy(made[1], tmp_path, damage.delete)
    monkeypatch.setenv(integrity.ENV, "off")
    assert len(list(iter_rows([copy]))) == 150 - 40


def test_folder_without_manifest_is_refused_and_rejects_never_read(made, tmp_path, monkeypatch):
    from synth.dataset import PLAIN_KIND_ENV

    copy = _copy(made[1], tmp_path, damage.delete_manifest)
    monkeypatch.delenv(PLAIN_KIND_ENV, raising=False)
    with pytest.raises(InputError, match="no manifest.json"):
        list(iter_rows([copy]))
    monkeypatch.setenv(PLAIN_KIND_ENV, "1")  # what --kind sets
    rows = list(iter_rows([copy]))
    assert len(rows) == 150 and all("/rejects/" not in r.path for r in rows)


@pytest.mark.parametrize("case", ["truncated shard", "deleted shard", "garbage chunk marker", "deleted chunk markers"])
def test_repair_undoes_damaged_chunks_and_reopens_their_task(made, tmp_path, case):
    copy = _copy(made[1], tmp_path, damage.CASES[case][0])
    notes = repair_output(copy, total=200, tasks=2, chunk_size=40)
    assert notes and all(str(copy) in n for n in notes)
    assert not (copy / "manifest.json").exists()  # a manifest means complete
    rank = 1 if case == "garbage chunk marker" else 0
    assert not (copy / ".synth" / "logs" / "completions" / f"{rank:05d}").exists()


def test_repair_leaves_an_intact_output_alone(made, tmp_path):
    copy = _copy(made[1], tmp_path, lambda out: None)
    assert repair_output(copy, total=200, tasks=2, chunk_size=40) == []
    assert (copy / "manifest.json").is_file()


def test_validate_cli_exits_2_naming_the_shard(made, tmp_path):
    copy = _copy(made[1], tmp_path, damage.truncate)
    result = synth("validate", str(copy))
    assert result.returncode == 2
    assert "data/00000_00001.parquet" in result.stderr and "certified" in result.stderr


@pytest.mark.slow
def test_damage_campaign_repairs_or_refuses_every_case(tmp_path):
    rows = damage.campaign(tmp_path)
    assert [r["case"] for r in rows if not r["ok"]] == [], rows
    assert not any(r["outcome"] == "DAMAGE CERTIFIED" for r in rows)
