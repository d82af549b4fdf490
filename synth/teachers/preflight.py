"""Fail fast, in one line, before any work: is the teacher usable at all?

`openai:URL`: the endpoint answers, accepts the key, and serves `--model`; an endpoint that reports vLLM
as the owner of its models gets regex-constrained JSON (`--structured auto`). `vllm:PATH`: vLLM is
importable. Per-request problems later on are the runner's business (retries, rejects).
"""

from __future__ import annotations

import dataclasses
import importlib.util

from synth.errors import UserError
from synth.teachers.config import Teacher


def preflight(teacher: Teacher) -> Teacher:
    """The teacher, with `structured="auto"` resolved where the endpoint tells us; UserError if unusable."""
    if teacher.budget.projection_only:
        return teacher  # --dry-run without --pilot reaches no server: a projection works before access is set up
    if teacher.spec.kind == "vllm":
        if importlib.util.find_spec("vllm") is None:
            raise UserError(f"--teacher {teacher.spec}: vLLM is not installed "
                            "(pip install 'synth[cpu]' on CPU machines, 'synth[gpu]' on GPU machines)")
        return teacher
    if teacher.spec.kind != "openai":
        return teacher
    models = _served_models(teacher)
    if models is None:
        return teacher  # no /models route (some gateways): requests will tell
    if teacher.spec.model not in models:
        served = ", ".join(sorted(models)[:10]) or "none"
        raise UserError(f"--teacher {teacher.spec}: model {teacher.spec.model!r} is not served there; served: {served}")
    if teacher.options.structured == "auto" and models[teacher.spec.model] == "vllm":
        return dataclasses.replace(teacher, options=dataclasses.replace(teacher.options, structured="regex"))
    return teacher


def _served_models(teacher: Teacher) -> dict[str, str] | None:
    """{model id: owned_by} from GET BASE/models, None when the route does not exist."""
    import httpx

    from synth.teachers.http import headers, is_loopback
    from synth.teachers.spec import route_url, scrub

    base = teacher.spec.target
    try:
        with httpx.Client(timeout=15.0, trust_env=not is_loopback(base)) as client:
            response = client.get(route_url(base, "/models"), headers=headers())
    except httpx.HTTPError as exc:
        raise UserError(f"--teacher {teacher.spec}: cannot reach the endpoint ({type(exc).__name__}: {scrub(str(exc))})")
    if response.status_code in (401, 403):
        raise UserError(f"--teacher {teacher.spec}: the endpoint refused the request (HTTP {response.status_code}); "
                        "set SYNTH_API_KEY (or OPENAI_API_KEY)")
    if response.status_code != 200:
        return None
    try:
        data = response.json().get("data") or []
        return {str(m["id"]): str(m.get("owned_by") or "") for m in data if isinstance(m, dict) and "id" in m}
    except (ValueError, AttributeError, KeyError):
        return None

