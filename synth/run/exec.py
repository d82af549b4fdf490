"""Run one pipeline stage as `python -m synth.cli ...` in a child process, with real exit codes.

Output: the child's stdout is the user's (its summary table, or our stderr under `synth run --json`,
so stdout carries only the pipeline's JSON). Its stderr goes straight to an interactive terminal
(progress bars need one) and is otherwise copied line by line to ours while the last lines are kept,
so the `--json` summary can say why a stage failed.

Processes: a stage runs in its own process group, and when it ends, whatever it left behind in that
group ends too (datatrove's multiprocess Manager survives a SIGKILLed command, vLLM servers would keep
their accelerator memory), so the next stage starts clean. The stage is also told to die with the
runner (Linux parent-death signal), so a killed runner never leaves a stage writing into an output
that the next run resumes. Ctrl-C and SIGTERM reach the runner and are forwarded to the stage's group;
the runner waits for it to stop (finished chunks are committed atomically), records the failure and
exits with the stage's code (128 + N for a signal N, as a shell reports it).
"""

from __future__ import annotations

import collections
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass
class StageResult:
    exit_code: int
    seconds: float
    error: str | None  # the child's last stderr line when it failed (None when stderr was a terminal)


def run_stage(argv: list[str], cwd: Path, json_mode: bool) -> StageResult:
    started = time.monotonic()
    interactive = _isatty(sys.stderr)
    proc = subprocess.Popen([sys.executable, "-m", "synth.cli", *argv], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE if json_mode else None,
                            stderr=None if interactive else subprocess.PIPE,
                            process_group=0, preexec_fn=_die_with_parent())  # noqa: PLW1509 - see there
    tail: collections.deque[str] = collections.deque(maxlen=20)
    pumps = [threading.Thread(target=_pump, args=(stream, keep), daemon=True)
             for stream, keep in ((proc.stdout, None), (proc.stderr, tail)) if stream is not None]
    for pump in pumps:
        pump.start()
    code = _wait(proc)
    for pump in pumps:
        pump.join(timeout=5)  # EOF comes once the group is gone
    lines = [line for line in tail if line.strip()]
    error = lines[-1].strip() if code != 0 and lines else None
    return StageResult(exit_code=code, seconds=round(time.monotonic() - started, 3), error=error)


def _pump(stream: IO[bytes], keep: collections.deque | None) -> None:
    """Copy a child's pipe to our stderr line by line (decoded leniently: logs are for people)."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        if keep is not None:
            keep.append(line)
        try:
            sys.stderr.write(line)
            sys.stderr.flush()
        except (OSError, ValueError):  # our stderr went away; keep draining so the child never blocks
            pass
    stream.close()


def _wait(proc: subprocess.Popen) -> int:
    """Wait for the stage, forwarding SIGTERM and Ctrl-C; then end what it left in its group."""
    previous = _forward_sigterm(proc)
    try:
        while True:
            try:
                code = proc.wait()
                break
            except KeyboardInterrupt:
                _interrupt(proc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        _signal_group(proc, signal.SIGKILL)
    return 128 - code if code < 0 else code


def _interrupt(proc: subprocess.Popen) -> None:
    """Ctrl-C: the stage stops cleanly (its command says how to resume); a second Ctrl-C or 60 s kill it."""
    _signal_group(proc, signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        _signal_group(proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)  # the stage leads its group: pgid == its pid
    except (ProcessLookupError, PermissionError):
        pass  # nothing left in the group


def _die_with_parent():
    """A preexec_fn asking Linux to SIGKILL the stage when the runner dies (None elsewhere)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: the hook only calls it
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def _forward_sigterm(proc: subprocess.Popen):
    def forward(signum, frame):
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)

    try:
        return signal.signal(signal.SIGTERM, forward)
    except ValueError:  # not the main thread (an embedding application): no forwarding
        return None


def _isatty(stream) -> bool:
    try:
        return stream.isatty() and stream.fileno() >= 0
    except (AttributeError, ValueError, OSError):
        return False
