import json
import subprocess
import sys

import pyarrow.parquet as pq

from tests.core.helpers import synth, trajectory, write_jsonl


def test_help_imports_no_heavy_modules():
    code = ("import sys, synth.cli\n"
            "from typer.testing import CliRunner\n"
            "assert CliRunner().invoke(synth.cli.app, ['--help']).exit_code == 0\n"
            "print(sorted(m for m in ('torch', 'vllm', 'faiss', 'sentence_transformers', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_writes_a_dataset_that_datasets_and_polars_open(tmp_path):
    import datasets
    import polars as pl

    write_jsonl(tmp_path / "in.jsonl", [trajectory(i) for i in range(40)])
    res = synth("import", str(tmp_path / "in.jsonl"), "--kind", "trajectory", "--out", str(tmp_path / "ds"),
                "--workers", "2", "--chunk-size", "7", "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["status"] == "complete" and summary["counts"]["output"] == 40
    frame = pl.read_parquet(str(tmp_path / "ds" / "data" / "*.parquet"))
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "ds" / "data" / "*.parquet"), split="train")
    assert frame.height == loaded.num_rows == 40
    assert loaded[0]["id"] == "traj-000000" and frame["id"].to_list() == [f"traj-{i:06d}" for i in range(40)]
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["counts"]["input"] == 40 and manifest["inputs"][0]["records"] == 40
    assert manifest["executor"] == {"type": "local", "tasks": 2, "workers": 2}


def test_bad_input_exits_2_with_one_line_and_keeps_earlier_output(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [trajectory(i) for i in range(5)])
    assert synth("import", str(good), "--kind", "trajectory", "--out", str(tmp_path / "ds")).returncode == 0
    before = sorted(p.name for p in (tmp_path / "ds" / "data").iterdir())
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(trajectory(0)) + "\n" + '{"id": "x", "messages": [{"role": "user", "content": 5}]}\n')
    res = synth("import", str(bad), "--kind", "trajectory", "--out", str(tmp_path / "ds2"))
    assert res.returncode == 2
    assert res.stderr.strip() == f"error: {bad}:2: field 'messages[0].content': 5 is not of type 'string', 'null'"
    assert not (tmp_path / "ds2" / "data").exists()
    # an existing output is untouched by a failing re-run with another config
    res = synth("import", str(bad), "--kind", "trajectory", "--out", str(tmp_path / "ds"))
    assert res.returncode == 2
    assert sorted(p.name for p in (tmp_path / "ds" / "data").iterdir()) == before
    for args in (["import", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "x")],
                 ["import", str(good), "--kind", "colour", "--out", str(tmp_path / "y")]):
        res = synth(*args)
        assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_config_file_toml_and_yaml_with_flags_winning(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": f"t{i}"} for i in range(10)])
    (tmp_path / "c.toml").write_text('fmt = "jsonl"\nchunk-size = 3\n')
    (tmp_path / "c.yaml").write_text("fmt: jsonl\nworkers: 2\n")
    assert synth("import", str(src), "--out", str(tmp_path / "a"), "--config", str(tmp_path / "c.toml")).returncode == 0
    assert sorted(p.name for p in (tmp_path / "a" / "data").iterdir())[0].endswith(".jsonl")
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["config"]["fmt"] == "jsonl"
    res = synth("import", str(src), "--out", str(tmp_path / "b"), "--config", str(tmp_path / "c.yaml"), "--format", "parquet")
    assert res.returncode == 0
    assert all(p.suffix == ".parquet" for p in (tmp_path / "b" / "data").iterdir())  # the flag won
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["executor"]["workers"] == 2  # the file filled in
    (tmp_path / "bad.toml").write_text("colour = 1\n")
    res = synth("import", str(src), "--out", str(tmp_path / "c"), "--config", str(tmp_path / "bad.toml"))
    assert res.returncode == 2 and "unknown key(s)" in res.stderr


def test_generic_records_get_stable_content_ids(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "same"}, {"text": "other"}, {"id": 7, "text": "x"}])
    assert synth("import", str(src), "--out", str(tmp_path / "a")).returncode == 0
    ids = pq.read_table(tmp_path / "a" / "data").column("id").to_pylist()
    assert ids[2] == "7" and len(ids[0]) == 16 and ids[0] != ids[1]
    res = synth("validate", str(tmp_path / "a"), "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["valid"], res.stderr
    from synth.dataset import read_records

    assert [r["text"] for r in read_records([tmp_path / "a"])] == ["same", "other", "x"]
