"""What `synth run` itself costs: stage launch as a child process, a cached re-run, input hashing.

    python bench/run_overhead.py [--records 2000] [--stages 5] [--repeat 5] [--hash-mb 256]

Prints, each against a baseline measured in this same process:
  1. launching a stage: `synth validate DIR` as a child process (what `synth run` does) vs the same
     command in-process through the Typer app (the alternative it rejects); ratio and the absolute cost;
  2. a cached re-run of a chain of N import stages vs its first run (the pipeline's own bookkeeping);
  3. hashing a large plain input (a corpus dump, say) vs the size+mtime cache a re-run uses;
  4. peak RSS of this process and of its children.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _trajectories(path: Path, n: int) -> Path:
    from tests.run.helpers import write_records

    return write_records(path, n)


def _synth(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth.cli", *args], capture_output=True, text=True, check=True)


def launch(folder: Path, repeat: int) -> None:
    from typer.testing import CliRunner

    from synth.cli import app

    data = folder / "launch"
    _synth("import", str(_trajectories(folder / "small.jsonl", 200)), "--kind", "trajectory", "--out", str(data))
    runner = CliRunner()
    runner.invoke(app, ["validate", str(data)])  # warm the in-process imports once, as a long run would
    t0 = time.perf_counter()
    for _ in range(repeat):
        assert runner.invoke(app, ["validate", str(data)]).exit_code == 0
    inproc = (time.perf_counter() - t0) / repeat
    t0 = time.perf_counter()
    for _ in range(repeat):
        _synth("validate", str(data))
    child = (time.perf_counter() - t0) / repeat
    print(f"stage launch  child process {child * 1000:7.0f} ms   in-process {inproc * 1000:7.0f} ms   "
          f"ratio {child / inproc:5.1f}x   overhead {1000 * (child - inproc):6.0f} ms per stage")


def cached_rerun(folder: Path, records: int, stages: int) -> None:
    import yaml

    _trajectories(folder / "in.jsonl", records)
    spec = {"workdir": "runs", "stages": {"s0": {"command": "import", "args": ["in.jsonl"], "flags": {"kind": "trajectory"}}}}
    for i in range(1, stages):
        spec["stages"][f"s{i}"] = {"command": "import", "args": [f"${{stages.s{i - 1}.out}}"],
                                   "flags": {"kind": "trajectory"}}
    path = folder / "chain.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    t0 = time.perf_counter()
    first = json.loads(_synth("run", str(path), "--json").stdout)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = json.loads(_synth("run", str(path), "--json").stdout)
    warm = time.perf_counter() - t0
    assert first["totals"]["ran"] == stages and again["totals"]["cached"] == stages
    print(f"pipeline      {stages} import stages x {records} records: first run {cold:6.2f} s, cached re-run "
          f"{warm:5.2f} s wall ({again['seconds'] * 1000:.0f} ms inside the runner), ratio {cold / warm:5.1f}x")


def hashing(folder: Path, megabytes: int) -> None:
    from synth.run.cache import RunState, path_hash

    big = folder / "dump.bin"
    block = os.urandom(1 << 20)
    with open(big, "wb") as fh:
        fh.writelines(block for _ in range(megabytes))
    state = RunState(folder / "state.json")
    t0 = time.perf_counter()
    first = path_hash(big, state)
    full = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert path_hash(big, state) == first
    cached = time.perf_counter() - t0
    print(f"input hash    {megabytes} MiB plain file: content {full * 1000:7.1f} ms ({megabytes / full:6.0f} MiB/s), "
          f"size+mtime cache {cached * 1000:6.3f} ms, ratio {full / cached:8.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--stages", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--hash-mb", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="synth-run-bench-") as tmp:
        folder = Path(tmp)
        launch(folder, args.repeat)
        cached_rerun(folder, args.records, args.stages)
        hashing(folder, args.hash_mb)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS      this process {own:6.0f} MiB, largest child {kids:6.0f} MiB")


if __name__ == "__main__":
    main()
