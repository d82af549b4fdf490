"""One HTTP call to an OpenAI-compatible server, with every failure classified.

datatrove's own transport opens a fresh socket per request with no timeout (`_raw_post`), or goes through
the `openai` client for remote URLs with the key stored on the config. Ours keeps a pooled keep-alive
httpx client per task, a per-request timeout, and reads the key from the environment for each request;
it raises `TransientError` (retry), `TeacherError` (reject this record) or `TeacherUnavailable` (stop).
Retrying and backoff live in the runner (synth.teachers.runner), not here.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any

from synth.teachers.errors import TeacherError, TeacherUnavailable, TransientError
from synth.teachers.spec import api_key, route_url, scrub

BODY_PREVIEW = 300


def headers() -> dict[str, str]:
    key = api_key()
    return {"Authorization": f"Bearer {key}"} if key else {}


def is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname in ("localhost", "127.0.0.1", "::1")


def make_client(timeout: float, connections: int, base: str):
    import httpx

    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 30.0)),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        # Proxies from the environment apply to remote APIs, never to a loopback engine.
        trust_env=not is_loopback(base),
    )


# What is left of the deadline of the call being attempted (set by the runner around each attempt): an
# attempt never outlives it, whatever --timeout says.
ATTEMPT_LIMIT: ContextVar[float | None] = ContextVar("synth_attempt_limit", default=None)


async def post_json(client, base: str, route: str, payload: dict, timeout: float | None = None) -> dict:
    """POST `payload` to BASE+route and return the decoded body of a 200 answer.

    `timeout` bounds the whole request (connect, send, read of the full body), not each read: httpx's own
    timeouts are per operation, so an endpoint dripping a byte a second would hold a request forever."""
    import httpx
    import orjson

    # orjson both ways: several times cheaper than httpx's json for long multi-turn payloads, and client CPU
    # is engine CPU when both share a machine.
    body = orjson.dumps(payload)
    limit = min((t for t in (timeout, ATTEMPT_LIMIT.get()) if t), default=None)
    try:
        async with asyncio.timeout(limit):
            response = await client.post(route_url(base, route), content=body,
                                         headers={"Content-Type": "application/json", **headers()})
    except (httpx.TimeoutException, TimeoutError) as exc:
        raise TransientError("teacher_timeout", f"no complete answer within {limit:g} s ({type(exc).__name__})"
                             if limit else f"no answer within the timeout ({type(exc).__name__})") from None
    except (httpx.TransportError, OSError) as exc:
        raise TransientError("teacher_connection_error", f"{type(exc).__name__}: {exc}") from None
    return _decode(response)


def _decode(response) -> dict:
    import orjson

    status, raw = response.status_code, _without_key(response.content)
    preview = scrub(raw[:BODY_PREVIEW].decode("utf-8", "replace"))
    if status == 200:
        try:
            data = orjson.loads(raw)
        except ValueError:
            raise TransientError("teacher_malformed_response", f"unparsable body: {preview!r}") from None
        if not _well_formed(data):
            raise TransientError("teacher_malformed_response", f"no choices in body: {preview!r}")
        return data
    if status == 429:
        raise TransientError("teacher_rate_limited", f"HTTP 429: {preview}")
    if status >= 500:
        raise TransientError("teacher_server_error", f"HTTP {status}: {preview}")
    if status in (401, 403):
        raise TeacherUnavailable(f"teacher refused the request (HTTP {status}); check SYNTH_API_KEY: {preview}")
    if status == 404:
        raise TeacherUnavailable(f"teacher answered HTTP 404 (unknown model or route): {preview}")
    # 400/413/422...: this request is bad (too long a prompt, an unsupported parameter): reject the record.
    raise TeacherError("teacher_bad_request", f"HTTP {status}: {preview}")


def _without_key(raw: bytes) -> bytes:
    """The body with the API key masked before anything reads it: a reply that echoes the key (a hostile or
    broken endpoint) must not carry it into records, rejects or the request cache."""
    key = api_key()
    if key and len(key) >= 4 and key.encode() in raw:
        return raw.replace(key.encode(), b"***")
    return raw


def _well_formed(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False
    first = choices[0]
    return isinstance(first.get("message"), dict) or isinstance(first.get("text"), str)


async def get_json(client, base: str, route: str) -> tuple[int, Any]:
    """(status, decoded body or None) of a GET; used for readiness and the pre-flight model check."""
    response = await client.get(route_url(base, route), headers=headers())
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None
