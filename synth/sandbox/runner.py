"""Start one sandboxed run, feed it, read it under caps, and classify how it ended."""

from __future__ import annotations

import json
import os
import secrets
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass, field

from synth.sandbox import limits as st
from synth.sandbox.backend import Backend, sandbox_env
from synth.sandbox.limits import Limits
from synth.sandbox.protocol import parse_events

READ_CHUNK = 1 << 16


@dataclass
class RunResult:
    """How one sandboxed run ended. `status` is one of `synth.sandbox.limits.STATUSES` (never
    wrong_answer: only callers know expected outputs). `events` are the harness's result lines."""

    status: str
    events: list[dict] = field(default_factory=list)
    stdout: bytes = b""
    stderr: str = ""
    exit_code: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    backend: str = ""
    detail: str = ""

    def of(self, event: str) -> list[dict]:
        return [e for e in self.events if e.get("event") == event]

    @property
    def violations(self) -> list[dict]:
        return self.of("violation")


@dataclass
class _Streams:
    """Bytes read so far from the three pipes, and why reading stopped early (if it did)."""

    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    results: bytearray = field(default_factory=bytearray)
    killed_for: str | None = None


def _job_fd(job: dict) -> int:
    """The job travels on an anonymous in-memory file: nothing on disk, any size, no pipe deadlock."""
    fd = os.memfd_create("synth-job", 0)
    data = json.dumps(job).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _kill_tree(proc: subprocess.Popen) -> None:
    """The run is its own session: one killpg reaches everything it spawned (and bwrap/unshare kill
    their pid namespace when they die)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _await_exit(pid: int, grace: float) -> None:
    """Let the run exit on its own (so its CPU accounting reaches us) without reaping it."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return
        time.sleep(0.002)


def _pump(proc: subprocess.Popen, result_r: int, stdin: bytes, limits: Limits, deadline: float) -> _Streams:
    out = _Streams()
    sel = selectors.DefaultSelector()
    caps = {"stdout": limits.output_kb << 10, "results": limits.results_mb << 20}
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    sel.register(result_r, selectors.EVENT_READ, "results")
    pending = memoryview(stdin)
    if proc.stdin is not None:
        if pending:
            os.set_blocking(proc.stdin.fileno(), False)
            sel.register(proc.stdin, selectors.EVENT_WRITE, "stdin")
        else:
            proc.stdin.close()
    while len(sel.get_map()):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            out.killed_for = st.TIMEOUT
            break
        for key, _ in sel.select(timeout=min(remaining, 1.0)):
            name = key.data
            if name == "stdin":
                try:
                    pending = pending[os.write(key.fd, pending[:READ_CHUNK]):]
                except (BrokenPipeError, OSError):
                    pending = memoryview(b"")
                if not pending:
                    sel.unregister(key.fileobj)
                    proc.stdin.close()
                continue
            chunk = os.read(key.fd, READ_CHUNK)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            buf = getattr(out, name)
            if name == "stderr":
                buf += chunk[: max(0, (limits.stderr_kb << 10) - len(buf))]  # drain, keep the head
                continue
            buf += chunk
            if len(buf) > caps[name]:
                out.killed_for = st.OUTPUT_LIMIT
                break
        if out.killed_for:
            break
    sel.close()
    return out


def execute(backend: Backend, job: dict, limits: Limits, stdin: bytes | None = None,
            uid: int | None = None, launcher: tuple[str, ...] = ()) -> RunResult:
    """One sandboxed run of the harness on `job` (a harness job dict without limits/nonce/fds)."""
    nonce = secrets.token_hex(8)
    result_r, result_w = os.pipe()
    job = dict(job, nonce=nonce, result_fd=result_w, limits=limits.to_json(), test_cpu_s=limits.test_cpu_s,
               uid=uid, preimport=uid is not None and backend.name == "rlimits")
    job_fd = _job_fd(job)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            backend.argv(job_fd, limits, launcher),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(job_fd, result_w),
            start_new_session=True, env=sandbox_env(), cwd="/",
        )
    except OSError as exc:
        for fd in (result_r, result_w, job_fd):
            os.close(fd)
        return RunResult(st.INFRA_ERROR, backend=backend.name, detail=f"cannot start sandbox: {exc}")
    os.close(result_w)
    os.close(job_fd)
    try:
        streams = _pump(proc, result_r, stdin or b"", limits, started + limits.wall_s)
        if streams.killed_for is None:
            _await_exit(proc.pid, grace=1.0)
    finally:
        # Also on success: nothing the program left behind may outlive the run. The leader is not reaped
        # yet (waitid with WNOWAIT), so its pid (= the group id) cannot have been reused.
        _kill_tree(proc)
        os.close(result_r)
    _, status, usage = os.wait4(proc.pid, 0)  # rusage covers the whole tree when it exited by itself
    proc.returncode = os.waitstatus_to_exitcode(status)
    for pipe in (proc.stdout, proc.stderr):
        pipe.close()
    events, problem = parse_events(bytes(streams.results), nonce, job)
    result = RunResult(
        status="", events=events, stdout=bytes(streams.stdout),
        stderr=streams.stderr.decode(errors="replace"), exit_code=proc.returncode,
        cpu_s=usage.ru_utime + usage.ru_stime, wall_s=time.monotonic() - started, backend=backend.name,
    )
    result.status, result.detail = classify(result, streams.killed_for, limits)
    if problem:  # a forged line (an `infra` one included) fails the run, never unscores it
        result.status, result.detail = st.PROTOCOL_ERROR, problem
    return result


def _signal_of(code: int | None) -> int | None:
    """Signal that ended the program: negative return codes (direct child) or 128+N (bwrap/unshare)."""
    if code is None:
        return None
    if code < 0:
        return -code
    return code - 128 if 128 < code < 160 else None


def classify(res: RunResult, killed_for: str | None, limits: Limits) -> tuple[str, str]:
    """Order matters: the parent's own kills first, then infrastructure, then what the program did."""
    names = [e["event"] for e in res.events]
    if killed_for == st.OUTPUT_LIMIT:
        return st.OUTPUT_LIMIT, f"output exceeded {limits.output_kb} KiB"
    if "ready" not in names:
        if killed_for == st.TIMEOUT:
            return st.INFRA_ERROR, "sandbox did not start before the wall-clock limit"
        return st.INFRA_ERROR, f"sandbox failed to start (exit {res.exit_code}): {res.stderr.strip()[-300:]}"
    if "infra" in names:  # protocol.py rejects an infra line written after user code started
        return st.INFRA_ERROR, next(e for e in res.events if e["event"] == "infra").get("error", "")
    if res.violations:
        v = res.violations[0]
        return st.VIOLATION, f"{v.get('kind')}: {v.get('detail')}"
    sig = _signal_of(res.exit_code)
    if killed_for == st.TIMEOUT:
        return st.TIMEOUT, f"wall clock over {limits.wall_s}s"
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and res.cpu_s >= limits.cpu_s - 0.5):
        return st.TIMEOUT, f"CPU time over {limits.cpu_s}s"
    if "done" in names and res.exit_code == 0:
        # The process ended normally: the run's verdict is its first failing call, if any.
        bad = next((e for e in res.events if e["event"] in ("test", "program")
                    and e.get("status") not in ("ok", "finished")), None)
        return (st.CALL_STATUS.get(bad["status"], st.RUNTIME_ERROR), bad.get("error") or "") if bad else (st.OK, "")
    if res.exit_code == 0:
        # The program ended the process itself (os._exit(0)): fine for a stdio program, whose stdout is
        # complete; function-mode callers see the tests that never reported as failed.
        return st.OK, "process exited before the harness finished"
    if "MemoryError" in res.stderr or any(e.get("status") == "memory" for e in res.events):
        return st.MEMORY_LIMIT, f"address space over {limits.memory_mb} MiB"
    if sig is not None:
        return st.RUNTIME_ERROR, f"killed by signal {signal.Signals(sig).name}"
    return st.RUNTIME_ERROR, f"exit {res.exit_code}: {res.stderr.strip()[-300:]}"
