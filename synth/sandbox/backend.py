"""How a sandboxed process is started: bubblewrap, or a documented fallback.

Backends, strongest first (`detect()` probes them once per process and picks the first that works):

* ``bwrap`` — bubblewrap: new user (non-root callers), pid, net, ipc, uts and mount namespaces; the
  filesystem is a read-only view of ``/usr`` and the interpreter's prefix, a size-capped private
  ``/tmp``, a fresh ``/proc`` and minimal ``/dev``; no network interface but a down loopback.
* ``unshare`` — util-linux ``unshare`` when bwrap is absent or cannot create namespaces: new pid
  (with its own ``/proc``), net, ipc, uts and mount namespaces and a private tmpfs on ``/tmp``, but the
  rest of the host filesystem stays visible; writes are stopped by file permissions (the program runs
  under an unprivileged uid) and by the harness policy, not by a read-only mount.
* ``rlimits`` — last resort: resource limits, an unprivileged uid when started as root, and the
  harness policy only. No network or filesystem isolation; ``Sandbox`` refuses it unless asked
  (``min_isolation="rlimits"``).

In every backend the kernel enforces CPU time, address space, file size, open files and the number of
processes (RLIMIT_NPROC: counted per user namespace for non-root callers; for root callers the harness
switches to a uid of its own, because the kernel never applies RLIMIT_NPROC to root).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from synth.sandbox.limits import Limits

HERE = Path(__file__).resolve().parent
HARNESS_FILES = ("harness.py", "profile_worker.py")
LEVELS = ("rlimits", "unshare", "bwrap")  # weakest -> strongest
INSIDE = "/sandbox"  # where the harness files appear in the bwrap view


def interpreter() -> tuple[str, str]:
    """The base interpreter (never the venv wrapper: the sandbox gets the standard library only) and
    its prefix, which the bwrap view mounts read-only."""
    exe = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    return exe, os.path.realpath(sys.base_prefix)


def python_argv(exe: str, harness: str, job_fd: int) -> list[str]:
    # -S -s: no site-packages; -B: no .pyc writes. Not -I: it would drop PYTHONHASHSEED, which we pin so
    # that set/dict-of-str orders (and so reference outputs) are the same on every run.
    return [exe, "-S", "-s", "-B", harness, str(job_fd)]


def sandbox_env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}


def _root_dirs() -> list[str]:
    """Bind /usr and mirror the usual top-level links (/bin -> usr/bin ...) as links or read-only binds."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    return args


@dataclass(frozen=True)
class Backend:
    """A way to start the harness. `argv()` gives the full command for one run."""

    name: str
    root: bool  # started by root: the harness drops to an unprivileged uid of its own

    def argv(self, job_fd: int, limits: Limits, launcher: tuple[str, ...] = ()) -> list[str]:
        """`launcher`: a command prefix for the interpreter inside the isolation (an instruction counter)."""
        exe, _ = interpreter()
        harness = str(HERE / "harness.py") if self.name == "rlimits" else f"{INSIDE}/harness.py"
        return self.wrapper(limits) + list(launcher) + python_argv(exe, harness, job_fd)

    def wrapper(self, limits: Limits) -> list[str]:
        """The command prefix that isolates whatever command follows it."""
        if self.name == "bwrap":
            return self._bwrap(limits)
        if self.name == "unshare":
            return self._unshare(limits)
        return []

    def _bwrap(self, limits: Limits) -> list[str]:
        _, prefix = interpreter()
        args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
                "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
        if self.root:
            # Privileged bwrap needs no user namespace; keep only what the harness needs to drop to
            # its own uid (setuid then clears every capability).
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            args += ["--unshare-user", "--disable-userns"]
        args += _root_dirs()
        if not prefix.startswith("/usr/"):
            # Parents of the prefix (e.g. /root, mode 0700 on the host) are made traversable in the view,
            # so the unprivileged uid the harness switches to can still import the standard library.
            parents = [str(p) for p in reversed(Path(prefix).parents) if str(p) != "/"]
            for parent in parents:
                args += ["--perms", "0755", "--dir", parent]
            args += ["--ro-bind", prefix, prefix]
        for name in HARNESS_FILES:
            args += ["--ro-bind", str(HERE / name), f"{INSIDE}/{name}"]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(limits.tmp_mb << 20), "--tmpfs", "/tmp",
                 "--chdir", "/tmp", "--clearenv"]
        for key, value in sandbox_env().items():
            args += ["--setenv", key, value]
        return args

    def _unshare(self, limits: Limits) -> list[str]:
        user = [] if self.root else ["--map-root-user"]  # mounting needs root in the namespace
        return ["unshare", "--fork", "--kill-child", "--pid", "--mount", "--net", "--ipc", "--uts",
                "--propagation", "private", *user, "--", "/bin/sh", "-c", self._mini_root(limits), "sh"]

    def _mini_root(self, limits: Limits) -> str:
        """Shell that builds what bwrap would: a tmpfs root with read-only /usr, interpreter prefix and
        harness, a private /tmp, fresh /proc and four device nodes; pivot_root into it, then drop every
        capability (non-root callers; root callers' harness drops to its own uid instead)."""
        _, prefix = interpreter()
        q = shlex.quote
        stage = _staging_dir(prefix, str(HERE))
        lines = ["set -e", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", f"R={q(stage)}",
                 "mount -t tmpfs -o size=8m,mode=755 tmpfs $R",
                 "mkdir -p $R/usr $R/proc $R/dev $R/tmp $R/sandbox $R/.old", "mount --bind -o ro /usr $R/usr"]
        for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
            if os.path.islink(name):
                lines.append(f"ln -s {q(os.readlink(name))} $R{name}")
            elif os.path.isdir(name):
                lines += [f"mkdir -p $R{name}", f"mount --bind -o ro {name} $R{name}"]
        if not prefix.startswith("/usr/"):
            lines += [f"mkdir -p $R{q(prefix)}", f"mount --bind -o ro {q(prefix)} $R{q(prefix)}"]
        lines.append(f"mount --bind -o ro {q(str(HERE))} $R/sandbox")
        for dev in ("null", "zero", "random", "urandom"):
            lines += [f": > $R/dev/{dev}", f"mount --bind /dev/{dev} $R/dev/{dev}"]
        lines += [f"mount -t tmpfs -o size={limits.tmp_mb}m,mode=1777 tmpfs $R/tmp",
                  "mount -t proc proc $R/proc", "cd $R", "pivot_root . .old", "cd /", "umount -l /.old",
                  "rmdir /.old", "mount -o remount,ro,bind /", "cd /tmp"]
        drop = "" if self.root else "setpriv --no-new-privs --bounding-set -all --inh-caps -all "
        lines.append(f'exec {drop}"$@"')
        return "\n".join(lines)

    @property
    def level(self) -> int:
        return LEVELS.index(self.name)


_DETECTED: dict[str, Backend | None] = {}
_LOCK = threading.Lock()


_WHY: dict[str, str] = {}


def _staging_dir(*sources: str) -> str:
    """An existing host folder to build the new root on (a tmpfs mounted over it, in the private mount
    namespace only). It must not hold anything the root binds from: a checkout or interpreter under /tmp
    would be hidden by the tmpfs before it is bound."""
    for candidate in ("/tmp", "/mnt", "/media", "/srv", "/var/tmp", "/opt"):
        inside = any(src == candidate or src.startswith(candidate + "/") for src in sources)
        if os.path.isdir(candidate) and not os.path.islink(candidate) and not inside:
            return candidate
    raise RuntimeError(f"no folder to stage the sandbox root on outside {', '.join(sources)}")


def _probe(backend: Backend) -> bool:
    """True if the backend can start a trivial process with its namespaces (else the reason is kept)."""
    if backend.name != "rlimits" and not shutil.which(backend.name):
        _WHY[backend.name] = f"{backend.name} not installed"
        return False
    argv = backend.wrapper(Limits()) + [interpreter()[0], "-S", "-c", "pass"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30, env=sandbox_env(), check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        _WHY[backend.name] = str(exc)
        return False
    _WHY[backend.name] = done.stderr.decode(errors="replace").strip()[-300:]
    return done.returncode == 0


def detect(prefer: str | None = None) -> Backend:
    """The strongest working backend (or exactly `prefer` if it works). Cached per process."""
    key = prefer or "auto"
    with _LOCK:
        if key not in _DETECTED:
            names = [prefer] if prefer else list(reversed(LEVELS))
            root = os.geteuid() == 0
            found = next((b for b in (Backend(n, root) for n in names) if _probe(b)), None)
            _DETECTED[key] = found
    found = _DETECTED[key]
    if found is None:
        why = "; ".join(f"{k}: {v}" for k, v in _WHY.items() if v)
        raise RuntimeError(f"no sandbox backend ({prefer or 'any'}) can start processes here ({why})")
    return found
