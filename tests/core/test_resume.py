"""Resume is exact: a SIGKILLed run, re-run, equals a clean run record for record."""

import json
import os
import signal
import subprocess
import sys
import time

import polars as pl
import pytest

from tests.core.helpers import synth, trajectory, write_jsonl

N, CHUNK = 12_000, 200


def _ids(out):
    frame = pl.read_parquet(str(out / "data" / "*.parquet"))
    return frame["id"].to_list()


def _start(src, out):
    args = [sys.executable, "-m", "synth.cli", "import", str(src), "--kind", "trajectory", "--out", str(out),
            "--workers", "1", "--tasks", "3", "--chunk-size", str(CHUNK)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


@pytest.fixture(scope="module")
def big_input(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume")
    return write_jsonl(folder / "in.jsonl", (trajectory(i) for i in range(N)))


@pytest.fixture(scope="module")
def clean_ids(big_input, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean") / "out"
    res = synth("import", str(big_input), "--kind", "trajectory", "--out", str(out), "--tasks", "3",
                "--chunk-size", str(CHUNK))
    assert res.returncode == 0, res.stderr
    return _ids(out)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after_chunks", [1, 25])
def test_sigkill_then_rerun_equals_clean_run(big_input, clean_ids, tmp_path, kill_after_chunks):
    out = tmp_path / "out"
    proc = _start(big_input, out)
    markers = out / ".synth" / "chunks"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if markers.is_dir() and len(list(markers.glob("*.json"))) >= kill_after_chunks:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed; make the input larger"
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group, workers included
    proc.wait()
    committed = len(list(markers.glob("*.json")))
    assert committed < N // CHUNK
    res = synth("import", str(big_input), "--kind", "trajectory", "--out", str(out), "--workers", "2")
    assert res.returncode == 0, res.stderr
    ids = _ids(out)
    assert ids == clean_ids and len(set(ids)) == N
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["output"] == N and manifest["executor"]["tasks"] == 3


def test_changed_config_is_refused_unless_forced(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [trajectory(i) for i in range(20)])
    out = tmp_path / "out"
    assert synth("import", str(src), "--kind", "trajectory", "--out", str(out)).returncode == 0
    res = synth("import", str(src), "--kind", "generic", "--out", str(out))
    assert res.returncode == 2 and "made with other settings (--kind trajectory -> generic)" in res.stderr and "--force" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert synth("import", str(src), "--kind", "trajectory", "--out", str(out)).returncode == 0  # same config: no-op
    assert len(_ids(out)) == 20


def test_refuses_a_foreign_non_empty_folder(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "a"}])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    res = synth("import", str(src), "--out", str(tmp_path / "mine"))
    assert res.returncode == 2 and (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
