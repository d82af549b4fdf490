"""Processes for the reliability suite: start the real CLI in its own process group, kill the whole group
with SIGKILL (nothing gets to clean up), and tell whether anything it started is still alive.

Zombies are not alive: in a container the reaper (PID 1) may be slow to collect them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "synth.cli", *args]


def start(argv: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    """Start `argv` in a new session (its own process group), stdout+stderr into `log`."""
    with open(log, "ab") as fh:
        return subprocess.Popen(argv, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **(env or {})})


def run(argv: list[str], log: Path, env: dict | None = None, timeout: float = 900) -> int:
    """Run to the end (its own group, killed whole on timeout); the exit code."""
    proc = start(argv, log, env)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _stat(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def living(pids: list[int]) -> list[int]:
    """The pids that still run (not gone, not zombies)."""
    alive = []
    for pid in pids:
        fields = _stat(str(pid))
        if fields is not None and fields[0] != "Z":
            alive.append(pid)
    return alive


def group_members(pgid: int) -> list[int]:
    """Living processes of process group `pgid`."""
    found = []
    for entry in os.listdir("/proc"):
        fields = _stat(entry) if entry.isdigit() else None
        if fields is not None and fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry))
    return found


def descendants(pid: int) -> list[int]:
    """Every living process below `pid` (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        fields = _stat(entry) if entry.isdigit() else None
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return living(found)


def wait_until(predicate: Callable[[], bool], proc: subprocess.Popen | None = None, timeout: float = 300,
               poll: float = 0.02) -> bool:
    """True once `predicate()` holds; False if `proc` ended first or the time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc is not None and proc.poll() is not None:
            return predicate()
        time.sleep(poll)
    return False


def settle(pids: list[int], timeout: float = 5.0) -> list[int]:
    """Wait up to `timeout` for `pids` to die; the ones still alive."""
    wait_until(lambda: not living(pids), timeout=timeout, poll=0.05)
    return living(pids)
