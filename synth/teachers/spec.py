"""Teacher specs (`vllm:MODEL_PATH`, `openai:URL` + `--model NAME`, `none`) and the API key rules.

The key is read from the environment (`SYNTH_API_KEY`, then `OPENAI_API_KEY`) at the moment a request is
built and is never stored on an object: datatrove pickles pipeline steps and dumps their attributes into
`executor.json`, so anything kept on a step would end up on disk. `scrub` removes the key from any text
(server error bodies, tracebacks) before it can reach a reject file or a log.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from synth.errors import UserError

KEY_ENV = ("SYNTH_API_KEY", "OPENAI_API_KEY")
KINDS = ("vllm", "openai", "none")
_SECRET_PARAM = re.compile(r"(key|token|secret|password|signature|sig)$", re.IGNORECASE)


def api_key() -> str | None:
    """The API key for OpenAI-compatible endpoints, read fresh from the environment (never cached)."""
    for name in KEY_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None


def scrub(text: str | None) -> str:
    """`text` with any API key from the environment replaced by `***`."""
    if not text:
        return text or ""
    key = api_key()
    if key and len(key) >= 4:
        text = text.replace(key, "***")
    return text


@dataclass(frozen=True)
class TeacherSpec:
    """A parsed --teacher value. Holds no secret: only a path, a URL without credentials, a model name."""

    kind: str                  # vllm | openai | none
    target: str | None = None  # model path (vllm) or base URL (openai)
    model: str | None = None   # name sent in requests and recorded in provenance

    @property
    def label(self) -> str | None:
        """What provenance records: the model name only (never a URL, path or key)."""
        return None if self.kind == "none" else self.model

    def __str__(self) -> str:
        return "none" if self.kind == "none" else f"{self.kind}:{self.target}"


def parse_spec(value: str | None, model: str | None = None) -> TeacherSpec:
    """Parse `--teacher` (+ `--model`); raises UserError with one line naming the problem."""
    value = (value or "none").strip()
    if value == "none":
        return TeacherSpec("none")
    kind, sep, target = value.partition(":")
    if not sep or kind not in ("vllm", "openai") or not target:
        raise UserError(f"--teacher must be vllm:MODEL_PATH, openai:URL or none, got {value!r}")
    if kind == "vllm":
        return _vllm_spec(target, model)
    return TeacherSpec("openai", _base_url(target), _openai_model(model))


def _vllm_spec(target: str, model: str | None) -> TeacherSpec:
    path = Path(target).expanduser()
    if not (path / "config.json").is_file():
        raise UserError(f"--teacher vllm:{target}: not a model folder (no config.json there)")
    # The served name defaults to the folder name: provenance then says "Qwen3-8B", not a machine path.
    return TeacherSpec("vllm", str(path.resolve()), model or path.resolve().name)


def _openai_model(model: str | None) -> str:
    if not model:
        raise UserError("--teacher openai:URL needs --model NAME (the model name the endpoint serves)")
    return model


def _base_url(url: str) -> str:
    """The OpenAI `base_url` (requests go to BASE/chat/completions); refuses credentials inside the URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--teacher openai:URL needs an http(s) URL, got {url!r}")
    if parts.username or parts.password or any(_SECRET_PARAM.search(k) for k, _ in parse_qsl(parts.query)):
        raise UserError("--teacher openai:URL must not carry credentials; put the key in SYNTH_API_KEY")
    path = parts.path.rstrip("/")
    # Like the openai client: a bare host means the standard /v1 prefix.
    base = f"{parts.scheme}://{parts.netloc}{path or '/v1'}"
    return f"{base}?{parts.query}" if parts.query else base


def route_url(base: str, route: str) -> str:
    """BASE (+ its query, e.g. Azure's api-version) with `route` (e.g. "/chat/completions") appended."""
    path, sep, query = base.partition("?")
    return f"{path}{route}{sep}{query}"
