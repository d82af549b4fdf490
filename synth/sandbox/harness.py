"""Runs INSIDE the sandbox: applies limits and policy, then executes untrusted code.

Standalone on purpose (stdlib only, no `synth` import): the sandbox sees only the interpreter's standard
library, this file and the job directory. Invoked as `python -I -S harness.py /job/job.json`.

Protocol: results are JSON lines on fd 3, each carrying the run's nonce (lines without it are ignored by
the parent, so stray writes from user code to fd 3 are not trusted). The first line is `ready` (the
parent uses its absence to tell an infrastructure failure from a crash of user code), the last `done`.
Expected outputs never enter the sandbox: the parent compares, so tampering with this process can only
change the values reported, never make a wrong value count as right.
"""

import gc
import io
import json
import os
import resource
import signal
import sys
import time

# Per-thread CPU clock, bound before user code runs (rebinding time.thread_time changes nothing). Not
# process_time: while an ITIMER_PROF timer is armed, Linux serves the process clock from the tick-based
# group timer, so calls shorter than a tick (4 ms) would read 0.
_CLOCK = time.thread_time
_OUT = None
_NONCE = ""
_VIOLATIONS = []


class TestTimeout(BaseException):
    """Raised by the per-test CPU timer; BaseException so a bare `except Exception` in user code misses it."""


def emit(event, **fields):
    fields["event"], fields["nonce"] = event, _NONCE
    line = (json.dumps(fields, default=repr) + "\n").encode()
    while line:  # os.write may be partial on a pipe
        line = line[os.write(_OUT, line):]


# ---------------------------------------------------------------- limits


def apply_limits(lim, counted=False):
    """Kernel limits on this process and everything it spawns (set before user code; hard == soft).
    `counted`: the run is under valgrind (trusted code only, see counter.py), which refuses any change of
    the open-files hard limit: there only the soft one is lowered."""
    mib = 1 << 20
    pairs = [
        (resource.RLIMIT_AS, lim["memory_mb"] * mib),
        (resource.RLIMIT_CPU, (lim["cpu_s"], lim["cpu_s"] + 1)),
        (resource.RLIMIT_FSIZE, lim["file_mb"] * mib),
        (resource.RLIMIT_NOFILE, lim["open_files"]),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, lim["processes"]),
    ]
    for which, value in pairs:
        soft, hard = value if isinstance(value, tuple) else (value, value)
        if counted and which == resource.RLIMIT_NOFILE:
            hard = resource.getrlimit(which)[1]
        resource.setrlimit(which, (soft, hard))


def drop_privileges(uid):
    """Root-mode sandboxes start as root in their namespaces; RLIMIT_NPROC is ignored for root, so run
    user code under an unprivileged uid of its own (setuid clears every capability)."""
    if uid is None or os.getuid() != 0:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


# ---------------------------------------------------------------- policy (audit hook)

_PROCESS = {"os.system", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn",
            "subprocess.Popen", "pty.spawn", "os.startfile"}
_NETWORK = {"socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
            "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "urllib.Request"}
_INTROSPECT = {"sys.settrace", "sys.setprofile", "gc.get_objects", "gc.get_referrers",
               "gc.get_referents", "ctypes.dlopen", "ctypes.dlsym", "ctypes.call_function",
               "resource.setrlimit", "resource.prlimit", "os.symlink", "os.link", "sys._current_frames"}
_PATH_WRITE = {"os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.rename", "os.truncate",
               "os.utime", "shutil.rmtree"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _under(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _make_abs():
    """`path -> absolute normalised path` with every helper bound now, before user code runs: user code
    that rebinds `posixpath.normpath` or `os.getcwd` changes nothing here."""
    normpath, join, getcwd = os.path.normpath, os.path.join, os.getcwd

    def absolute(path):
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        return normpath(join(getcwd(), path))

    return absolute


def make_hook(policy):
    """Second line of defence over the kernel boundary: a blocked call raises PermissionError and is
    reported, so the parent can say *what* was attempted (the namespaces contain it either way)."""
    reads, writes = policy["read_roots"], policy["write_roots"]
    own_pid = os.getpid()
    _abs = _make_abs()

    def violate(kind, detail):
        _VIOLATIONS.append(kind)
        emit("violation", kind=kind, detail=str(detail)[:300])
        raise PermissionError(f"sandbox: {kind} blocked ({detail})")

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            if path is None or isinstance(path, int):
                return
            full = _abs(path)
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (flags or 0) & _WRITE_FLAGS
            if writing and not _under(full, writes):
                violate("write_outside_tmp", full)
            if not writing and not _under(full, reads + writes):
                violate("read_outside_sandbox", full)
        elif event in _PROCESS or event.startswith(("os.exec", "os.spawn")):
            violate("process", event)
        elif event in _NETWORK:
            violate("network", event)
        elif event in ("os.kill", "os.killpg", "signal.pthread_kill"):
            if event != "os.kill" or args[0] not in (0, own_pid, os.getpid()):
                violate("signal", f"{event}{tuple(args)}")
        elif event in _INTROSPECT:
            violate("forbidden_call", event)
        elif event in _PATH_WRITE and args and isinstance(args[0], (str, bytes)):
            if not _under(_abs(args[0]), writes):
                violate("write_outside_tmp", f"{event} {_abs(args[0])}")
        elif event == "import" and args[0] in ("ctypes", "_ctypes", "cffi", "_posixsubprocess"):
            violate("forbidden_call", f"import {args[0]}")
        elif event == "object.__setattr__" and len(args) > 1 and args[1] == "__code__":
            violate("forbidden_call", "rebinding a function's __code__")  # would rewrite the hook's helpers

    return hook


# ---------------------------------------------------------------- values


MAX_DEPTH = 100  # deeper return values are refused: the parent's JSON parser must never recurse too far


class Unencodable(Exception):
    """A return value the result channel cannot carry (nested too deep)."""


def encode(value, depth=0):
    """A JSON form that compares equal exactly when the Python values do (up to list/tuple)."""
    if depth > MAX_DEPTH:
        raise Unencodable(f"return value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else {"__float__": repr(value)}
    if isinstance(value, (list, tuple)):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {"__dict__": sorted(([encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()), key=repr)}
    if isinstance(value, (set, frozenset)):
        return {"__set__": sorted((encode(v, depth + 1) for v in value), key=repr)}
    return {"__repr__": repr(value)[:10000]}


def encode_result(status, value, error):
    """(status, encoded value, error) of a call, with an unencodable value turned into a failed call.
    Runs under the per-call timer too: user objects' __repr__/__eq__ run here."""
    if status != "ok":
        return status, None, error
    st, encoded, err, _ = call_limited(encode, (value,), 1.0)
    if st != "ok":
        return st, None, (err or "unencodable value")
    return "ok", encoded, None


# ---------------------------------------------------------------- running user code


def load_module(program, name):
    """Execute a program ({"name", "source"}) as a fresh module namespace."""
    namespace = {"__name__": name, "__file__": program["name"], "__builtins__": __builtins__}
    exec(compile(program["source"], program["name"], "exec"), namespace)
    return namespace


def _on_timer(signum, frame):
    raise TestTimeout()


def call_limited(fn, args, cpu_s):
    """Call fn(*args) under a CPU-time timer; returns (status, value, error, cpu seconds)."""
    signal.setitimer(signal.ITIMER_PROF, cpu_s, 0.05)  # keeps firing if user code swallows one
    start = _CLOCK()
    try:
        value = fn(*args)
        status, error = "ok", None
    except TestTimeout:
        status, value, error = "timeout", None, "per-test CPU limit"
    except OutputLimit as exc:
        status, value, error = "output_limit", None, str(exc)
    except MemoryError:
        status, value, error = "memory", None, "MemoryError"
    except SystemExit as exc:  # sys.exit() / exit(0) ends a stdio program normally
        ok = exc.code in (None, 0)
        status, value, error = ("ok", None, None) if ok else ("error", None, f"SystemExit: {exc.code}")
    except RecursionError as exc:
        status, value, error = "error", None, f"RecursionError: {exc}"[:500]
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, SystemExit included
        status, value, error = "error", None, f"{type(exc).__name__}: {exc}"[:500]
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
    cpu = _CLOCK() - start
    if _VIOLATIONS and status != "ok":
        status = "violation"
    return status, value, error, cpu


class CappedOutput(io.TextIOBase):
    """Where user prints go in function mode: counted and dropped, never mixed into results."""

    def __init__(self, limit):
        self.limit, self.size = limit, 0

    def writable(self):
        return True

    def write(self, text):
        self.size += len(text)
        if self.size > self.limit:
            raise OutputLimit(f"printed more than {self.limit} characters")
        return len(text)


class OutputLimit(BaseException):
    """User code printed past the output cap (function mode)."""


def run_function(job):
    entry, tests = job["entry_point"], job["tests"]
    for p_index, prog in enumerate(job["programs"]):
        sys.stdout = CappedOutput(job["limits"]["output_kb"] * 1024)
        status, module, error, _ = call_limited(load_module, (prog, "solution"), job["test_cpu_s"])
        fn = module.get(entry) if status == "ok" else None
        if status == "ok" and not callable(fn):
            status, error = "error", f"entry point {entry!r} not defined"
        if status != "ok":
            emit("program", program=p_index, status=status, error=error)
            continue
        for t_index, args in enumerate(tests):
            status, value, error, cpu = call_limited(fn, json.loads(json.dumps(args)), job["test_cpu_s"])
            status, value, error = encode_result(status, value, error)
            emit("test", program=p_index, test=t_index, status=status, value=value, error=error, cpu=cpu)
            if status != "ok" and job.get("stop_on_fail"):
                break
        emit("program", program=p_index, status="finished", error=None)


def run_generate(job):
    """Draw inputs with the problem's generator (untrusted too), normalised through JSON."""
    import random

    module = load_module(job["generator"], "generator")
    gen = module["generate"]
    for index, (size, seed) in enumerate(job["draws"]):
        status, value, error, _ = call_limited(gen, (size, random.Random(seed)), job["test_cpu_s"])
        if status == "ok":
            try:
                value = json.loads(json.dumps(value if job["style"] == "stdio" else list(value)))
            except (TypeError, ValueError) as exc:
                status, value, error = "error", None, f"generator output not JSON: {exc}"[:300]
        emit("draw", index=index, status=status, value=value, error=error)


def run_stdio(job):
    """One program, real stdin/stdout: the parent feeds stdin and compares stdout."""
    status, _, error, cpu = call_limited(load_module, (job["programs"][0], "__main__"), job["test_cpu_s"])
    sys.stdout.flush()
    emit("test", program=0, test=0, status=status, value=None, error=error, cpu=cpu)


# Modules user code commonly imports lazily. Imported up front only when the harness must drop to an
# unprivileged uid that may not be able to read the interpreter's own directory afterwards (fallback).
PREIMPORT = ["array", "bisect", "collections", "copy", "dataclasses", "decimal", "enum", "fractions", "functools", "heapq", "itertools", "math", "operator", "random", "re", "statistics", "string", "typing", "unicodedata"]


def run_stdio_batch(job):
    """Many stdins in one process: each test re-executes the program with emulated sys.stdin/stdout.
    Programs that read fd 0 directly (open(0), os.read) fail here; callers re-run failures one per process."""
    program = job["programs"][0]
    code = compile(program["source"], program["name"], "exec")
    limit = job["limits"]["output_kb"] * 1024
    real_stdin, real_stdout = sys.stdin, sys.stdout
    for index, text in enumerate(job["stdins"]):
        sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8")
        sys.stdout = out = CappedText(limit)
        namespace = {"__name__": "__main__", "__file__": program["name"], "__builtins__": __builtins__}
        status, _, error, cpu = call_limited(exec, (code, namespace), job["test_cpu_s"])
        sys.stdin, sys.stdout = real_stdin, real_stdout
        emit("test", program=0, test=index, status=status, value=out.getvalue(), error=error, cpu=cpu)
    emit("program", program=0, status="finished", error=None)


class CappedText(io.StringIO):
    """Captured stdout of one emulated stdio test, with the output cap applied."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit

    def write(self, text):
        if self.tell() + len(text) > self.limit:
            raise OutputLimit(f"printed more than {self.limit} characters")
        return super().write(text)


def _load_profile_worker():
    """profile_worker as an anonymous module: imported by path, then dropped from sys.modules."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)  # the script dir is not on sys.path (-S, and python is given a path)
    try:
        import profile_worker
    finally:
        sys.path.remove(here)
    sys.modules.pop("profile_worker", None)
    return profile_worker


def main():
    global _OUT, _NONCE
    with os.fdopen(int(sys.argv[1]), "rb") as fh:  # the job arrives on an inherited memfd
        job = json.loads(fh.read())
    _OUT, _NONCE = job["result_fd"], job["nonce"]
    if job.get("preimport"):
        for name in PREIMPORT:
            __import__(name)
    signal.signal(signal.SIGPROF, _on_timer)  # the per-call CPU timer (call_limited)
    signal.signal(signal.SIGXCPU, _on_timer)  # the whole run's RLIMIT_CPU soft limit
    emit("ready", pid=os.getpid())
    # Every mode loads the profiler the same way and leaves no trace of it: user code sees the same
    # sys.modules and sys.path whether it is being tested or timed (issue 22).
    worker = _load_profile_worker()
    if job["mode"] == "generate":
        import random  # noqa: F401

    try:
        counted = (job.get("profile") or {}).get("counter") == "instructions"
        apply_limits(job["limits"], counted=counted)
        if counted:  # callgrind rewrites its startup file at exit, after the uid change below
            os.chmod(f"{job['profile']['dump_prefix']}.{os.getpid()}", 0o666)
        drop_privileges(job.get("uid"))
    except OSError as exc:  # limits are part of the boundary: refuse to run without them
        emit("infra", error=f"limits: {exc}")
        return 70
    sys.setrecursionlimit(job.get("recursion_limit", 10000))
    os.chdir(job.get("workdir", "/tmp"))

    if job["policy"]["audit"]:
        sys.addaudithook(make_hook(job["policy"]))
    gc.collect()
    # From here on user code runs: the parent treats any later `infra` line as forged.
    emit("armed")
    if job["mode"] == "profile":
        worker.run_profile(job, load_module, emit, call_limited, encode_result)
    else:
        {"function": run_function, "stdio": run_stdio, "stdio_batch": run_stdio_batch,
         "generate": run_generate}[job["mode"]](job)
    emit("done", violations=_VIOLATIONS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
