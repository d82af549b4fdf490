"""Issue 28, point 4: disk full, too many open files, out of memory end with one line naming --out, exit 1,
and the same command resumes to valid output afterwards."""

import errno
import resource
import shutil
import subprocess
import sys

import pytest

from synth.resources import resource_message
from tests.core.helpers import REPO, synth, trajectory, write_jsonl

N = 3000


def _input(tmp_path):
    return write_jsonl(tmp_path / "in.jsonl", (trajectory(i) for i in range(N)))


def _args(src, out):
    return ["import", str(src), "--kind", "trajectory", "--out", str(out), "--chunk-size", "100", "--json"]


def _can_mount_tmpfs(folder) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {folder}"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow
def test_disk_full_is_one_line_naming_out_and_resumes(tmp_path):
    """A real full disk: a 150 KiB tmpfs in a private mount namespace (no root needed), enlarged in place
    for the resume, so both runs write the same --out."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if not _can_mount_tmpfs(mnt):
        pytest.skip("no unprivileged mount namespace here (unshare -rm) for a small tmpfs")
    src, out = _input(tmp_path), mnt / "out"
    cli = f"{sys.executable} -m synth.cli"
    script = (f"mount -t tmpfs -o size=150k tmpfs {mnt} && "
              f"{cli} {' '.join(_args(src, out))} 2>{tmp_path}/full.err; echo $? > {tmp_path}/full.rc; "
              f"mount -o remount,size=20m {mnt} && {cli} {' '.join(_args(src, out))} > /dev/null 2>&1; "
              f"echo $? > {tmp_path}/resume.rc; {cli} validate {out} --deep > /dev/null 2>&1; echo $? > {tmp_path}/valid.rc; "
              f"{sys.executable} -c \"import polars as pl; print(pl.read_parquet('{out}/data/*.parquet')['id'].to_list() == "
              f"['traj-%06d' % i for i in range({N})])\" > {tmp_path}/same.txt")
    subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=REPO, timeout=300, check=True)
    err = (tmp_path / "full.err").read_text().strip().splitlines()
    assert (tmp_path / "full.rc").read_text().strip() == "1"
    assert err == [f"error: --out {out}: disk full; free space on that disk (or choose another --out), then re-run "
                   "the same command to resume"]
    assert (tmp_path / "resume.rc").read_text().strip() == "0"
    assert (tmp_path / "valid.rc").read_text().strip() == "0"
    assert (tmp_path / "same.txt").read_text().strip() == "True"


@pytest.mark.slow
def test_too_many_open_files_is_one_line_naming_out_and_resumes(tmp_path):
    src, out = _input(tmp_path), tmp_path / "out"

    def few_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (14, 14))

    res = subprocess.run([sys.executable, "-m", "synth.cli", *_args(src, out), "--workers", "2", "--tasks", "4"],
                         cwd=REPO, capture_output=True, text=True, preexec_fn=few_files, timeout=300)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        f"error: --out {out}: too many open files; raise the limit (ulimit -n) or lower --workers, then re-run "
        "the same command to resume"]
    again = synth(*_args(src, out))
    assert again.returncode == 0, again.stderr
    assert synth("validate", str(out), "--deep").returncode == 0


def test_out_of_memory_anywhere_in_the_chain_is_named():
    """MemoryError itself is not provoked here: RLIMIT_AS also starves OpenBLAS/torch thread start-up, which
    then hang instead of failing (tried; see docs/LOG.md)."""
    try:
        try:
            raise MemoryError()
        except MemoryError as inner:
            raise RuntimeError("task 3 failed") from inner
    except RuntimeError as exc:
        line = resource_message(exc, "OUT")
    assert line == "--out OUT: out of memory; free memory, or lower --workers / --chunk-size, then re-run the " \
                   "same command to resume"
    assert resource_message(OSError(errno.ENOSPC, "x"), None).startswith("synth: disk full")
    assert resource_message(ValueError("no"), "OUT") is None
