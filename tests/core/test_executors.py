"""Other datatrove executors: Ray against a real local cluster, Slurm up to the sbatch script."""

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import pytest

from tests.core.helpers import synth, trajectory, write_jsonl


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_cluster(monkeypatch):
    pytest.importorskip("ray", reason="ray is a test dependency (pip install synth[test])")
    ray_bin = Path(sys.executable).with_name("ray")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray")  # short: Ray's unix socket paths must fit in 107 bytes
    # Ray 2.60 keeps a cluster auth token in ~/.ray/auth_token; one left by an earlier in-process cluster
    # (another test, another session) made the CLI's cluster refuse synth's client. A HOME of its own for the
    # cluster and for synth (the subprocess inherits it) keeps the test independent of what ran before.
    monkeypatch.setenv("HOME", temp)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    start = [str(ray_bin), "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"]
    subprocess.run(start, check=True, capture_output=True, env=env, timeout=180)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], capture_output=True, env=env, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.slow
def test_ray_executor_on_a_local_cluster(tmp_path, ray_cluster):
    src = write_jsonl(tmp_path / "in.jsonl", [trajectory(i) for i in range(300)])
    out = tmp_path / "out"
    res = synth("import", str(src), "--kind", "trajectory", "--out", str(out), "--executor", "ray",
                "--ray-address", ray_cluster, "--workers", "2", "--tasks", "3", "--chunk-size", "50", "--json",
                env={"RAY_USAGE_STATS_ENABLED": "0"})
    assert res.returncode == 0, res.stderr[-3000:]
    assert json.loads(res.stdout)["counts"]["output"] == 300
    ids = pl.read_parquet(str(out / "data" / "*.parquet"))["id"].to_list()
    assert ids == [f"traj-{i:06d}" for i in range(300)]
    assert json.loads((out / "manifest.json").read_text())["executor"]["type"] == "ray"


def test_slurm_executor_renders_and_submits_an_sbatch_script(tmp_path):
    """No Slurm here: a fake `sbatch` on PATH records the script it is given and answers like Slurm."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "sbatch"
    fake.write_text(f"#!/bin/sh\nfor a in \"$@\"; do last=\"$a\"; done\ncp \"$last\" {tmp_path}/submitted_$$.sh\n"
                    "echo \"Submitted batch job 4242\"\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    src = write_jsonl(tmp_path / "in.jsonl", [trajectory(i) for i in range(10)])
    out = tmp_path / "out"
    res = synth("import", str(src), "--kind", "trajectory", "--out", str(out), "--executor", "slurm",
                "--tasks", "4", "--slurm-partition", "gpu-short", "--slurm-time", "01:30:00", "--json",
                env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["status"] == "submitted" and summary["tasks"] == 4
    script = (out / ".synth" / "logs" / "launch_script.slurm").read_text()
    assert "#SBATCH --partition=gpu-short" in script and "#SBATCH --time=01:30:00" in script
    assert "#SBATCH --array=0-3" in script
    assert f"launch_pickled_pipeline {out / '.synth' / 'logs' / 'executor.pik'}" in script
    assert sys.prefix in script  # the job activates the same environment
    submitted = sorted(tmp_path.glob("submitted_*.sh"))
    assert submitted and submitted[0].read_text() == script
    assert not (out / "manifest.json").exists()  # written by the re-run once the job has finished
