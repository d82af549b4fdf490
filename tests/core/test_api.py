"""The Python API (synth/api.py): the same commands as the CLI, errors as UserError, the same output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synth import api
from synth.errors import InputError, UserError
from tests.core.helpers import synth, trajectory, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "tests" / "data" / "shared" / "trajectories" / "webdancer_sample_traj.hermes.jsonl"


def test_one_function_per_command_with_the_options_fields():
    import inspect

    assert {"import_records", "filter_records", "generate_responses", "label_turns", "judge_pairwise",
            "eval_deepsearch", "corpus_build", "run_pipeline", "train"} <= set(api.__all__)
    params = inspect.signature(api.filter_records).parameters
    assert next(iter(params)) == "inputs" and {"out", "dedup", "shards", "fmt", "chunk_size"} <= set(params)
    assert api.options_of("filter") is api.filter_records.__wrapped_options__


def test_api_returns_the_dataset_and_raises_user_error_instead_of_exit_2(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [trajectory(i) for i in range(6)])
    made = api.import_records(str(src), out=tmp_path / "ds", kind="trajectory", chunk_size=4, json_out=True)
    assert made.path == tmp_path / "ds" and made.manifest["counts"]["output"] == 6
    assert made.summary["status"] == "complete"
    with pytest.raises(UserError, match="--format must be parquet or jsonl"):
        api.import_records([src], out=tmp_path / "x", fmt="csv")
    with pytest.raises(UserError, match="unexpected keyword argument 'tasks_per_worker'"):
        api.import_records([src], out=tmp_path / "x", tasks_per_worker=2)
    write_jsonl(tmp_path / "bad.jsonl", [trajectory(0), {"id": "b"}])
    with pytest.raises(InputError, match="bad.jsonl:2: field 'messages'"):
        api.import_records([tmp_path / "bad.jsonl"], out=tmp_path / "ds", kind="trajectory", json_out=True)
    assert json.loads((tmp_path / "ds" / "manifest.json").read_text())["counts"]["output"] == 6  # nothing lost


def _content(folder: Path) -> dict:
    """What a run wrote that must not depend on how it was started (timings and versions aside)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    shards = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted((folder / "data").iterdir())}
    keep = ("command", "config", "config_hash", "counts", "files", "kind", "output_hash", "shards", "stats", "status")
    return {"manifest": {k: manifest.get(k) for k in keep}, "shards": shards}


@pytest.mark.slow
def test_the_notebook_example_writes_what_the_cli_writes(tmp_path):
    (tmp_path / "api").mkdir(), (tmp_path / "cli").mkdir()
    res = subprocess.run([sys.executable, str(ROOT / "examples" / "notebook_api.py"), str(SOURCE),
                          str(tmp_path / "api")], capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    assert "150 imported" in res.stdout
    cli = tmp_path / "cli"
    for argv in (["import", str(SOURCE), "--kind", "trajectory", "--from", "auto", "--out", "imported"],
                 ["label", "turns", "imported", "--out", "labelled"],
                 ["filter", "labelled", "--dedup", "exact", "--shards", "2", "--out", "filtered", "--json"]):
        assert synth(*argv, cwd=cli).returncode == 0, argv
    for name in ("imported", "labelled", "filtered"):
        assert _content(tmp_path / "api" / name) == _content(cli / name), name
