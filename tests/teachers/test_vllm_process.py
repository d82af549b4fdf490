"""A spawned engine is stopped whole: vLLM's API server forks an EngineCore and workers that outlive a terminated
API server while busy (issue 30: a core still warming up ran on for 17 minutes after a failed start)."""

from __future__ import annotations

import asyncio
import os
import sys
import time

from synth.teachers.config import inference_config
from synth.teachers.flags import TeacherFlags, teacher_from
from synth.teachers.servers import VllmProcess

# an "API server" that forks a busy child (the EngineCore) which ignores SIGTERM, as a core mid-compile does
ENGINE = """
import os, signal, sys, time
child = os.fork()
if child == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(0.1)
open(sys.argv[1], "w").write(str(child))
time.sleep(600)
"""


class FakeEngine(VllmProcess):
    def __init__(self, config, teacher, pid_file):
        super().__init__(config, 0, teacher)
        self.pid_file = pid_file

    def command(self) -> list[str]:
        return [sys.executable, "-c", ENGINE, str(self.pid_file)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_cleanup_stops_the_engines_children_too(tmp_path):
    (tmp_path / "config.json").write_text("{}")  # a model folder by its shape; nothing is loaded
    teacher = teacher_from(TeacherFlags(teacher=f"vllm:{tmp_path}"))

    async def start_then_stop() -> int:
        # built inside the loop: the server's constructor makes an asyncio.Future, which needs a current loop
        # (outside one it depends on what an earlier test left set)
        server = FakeEngine(inference_config(teacher, None, 1), teacher, tmp_path / "core.pid")
        server._server_process = process = await server._start_vllm_task()
        deadline = time.time() + 30
        while not (tmp_path / "core.pid").exists() and time.time() < deadline:
            await asyncio.sleep(0.05)
        core = int((tmp_path / "core.pid").read_text())
        assert _alive(core)
        await server.server_cleanup()
        # the pipes reach EOF only once every process holding them (the core too) is gone
        await asyncio.wait_for(process.communicate(), timeout=30)
        return core

    core = asyncio.run(start_then_stop())
    deadline = time.time() + 10
    while _alive(core) and time.time() < deadline:
        time.sleep(0.05)
    assert not _alive(core), "the engine's child outlived the cleanup"
    assert os.getpgid(os.getpid()) != core  # the engine ran in its own group, not the caller's


def test_a_cpu_without_native_bf16_serves_in_float32(tmp_path, monkeypatch):
    from synth.teachers import config

    monkeypatch.setattr(config, "is_vllm_cpu", lambda: True)
    avx2, bf16 = tmp_path / "avx2", tmp_path / "bf16"
    avx2.write_text("flags\t\t: fpu sse2 avx avx2 fma\n")
    bf16.write_text("flags\t\t: fpu sse2 avx avx2 avx512f avx512_bf16 amx_bf16\n")
    assert not config.cpu_has_bf16(str(avx2)) and config.cpu_has_bf16(str(bf16))
    assert config.cpu_has_bf16(str(tmp_path / "absent"))  # unknown: no override

    monkeypatch.setattr(config, "cpu_has_bf16", lambda: False)
    plain = config.TeacherOptions()
    assert config.cpu_engine_args(plain) == ["--no-enable-chunked-prefill", "--dtype", "float32"]
    chosen = config.TeacherOptions(engine_args=("--dtype=bfloat16",))  # the user's choice stands
    assert config.cpu_engine_args(chosen) == ["--no-enable-chunked-prefill"]
    monkeypatch.setattr(config, "cpu_has_bf16", lambda: True)
    assert config.cpu_engine_args(plain) == ["--no-enable-chunked-prefill"]
