"""A scripted, fault-injecting OpenAI-compatible HTTP server on loopback, for tests of anything that talks
to a teacher (teachers, deep search, trajectories, judges).

It is a real HTTP server in a thread (stdlib `http.server`, HTTP/1.1 keep-alive), so the code under test
runs its real client, retries and timeouts. A *handler* decides each answer:

    server = FakeOpenAI(handler=lambda req: Say(json.dumps({"verdict": "A"})))
    server.url                      # "http://127.0.0.1:PORT/v1"  ->  --teacher openai:{url} --model fake-model
    server.requests                 # every request seen: Request(path, body, headers, index)

Actions a handler returns:
    Say(text, finish_reason="stop", tool_calls=None, reasoning=None, usage=None, delay=0)
    Fail(status=503, body=...)      an HTTP error status
    Reset()                         close the connection without answering (connection reset)
    Hang(seconds)                   answer only after `seconds` (client timeouts)
    Garbage(body)                   HTTP 200 with a malformed body
    Block(event, then)              wait for a threading.Event, then do `then`
Helpers: `script(*actions, then=handler)` plays actions in order; `by_prompt({substring: action or
[actions]}, default)` routes on the last user message; `last_user(req)` extracts it.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Request:
    path: str
    body: Any
    headers: dict
    index: int

    @property
    def messages(self) -> list[dict]:
        return (self.body or {}).get("messages") or [] if isinstance(self.body, dict) else []


@dataclass
class Say:
    text: str = "ok"
    finish_reason: str = "stop"
    tool_calls: list | None = None
    reasoning: str | None = None
    usage: dict | None = None
    delay: float = 0.0


@dataclass
class Fail:
    status: int = 503
    body: str = '{"error": {"message": "overloaded"}}'


@dataclass
class Reset:
    pass


@dataclass
class Hang:
    seconds: float = 30.0
    then: Any = field(default_factory=Say)


@dataclass
class Garbage:
    body: str = '{"choices": [ {"message": '


@dataclass
class Drip:
    """HTTP 200 with the full Content-Length, then the body one byte every `interval` seconds (a slow-drip
    endpoint: every read succeeds, the request never ends). `held` gets, per request, the seconds from its
    arrival until the client hung up."""

    interval: float = 1.5
    held: list = field(default_factory=list)


@dataclass
class Block:
    event: threading.Event
    then: Any = field(default_factory=Say)
    timeout: float = 60.0


def last_user(req: Request) -> str:
    for message in reversed(req.messages):
        if message.get("role") == "user":
            return message.get("content") or ""
    return ""


def echo(req: Request) -> Say:
    return Say(f"echo: {last_user(req)}")


def script(*actions: Any, then: Callable[[Request], Any] = echo) -> Callable[[Request], Any]:
    """Answer the first requests with `actions`, in arrival order, then defer to `then`."""
    queue, lock = list(actions), threading.Lock()

    def handler(req: Request) -> Any:
        with lock:
            if queue:
                return queue.pop(0)
        return then(req)

    return handler


def by_prompt(routes: dict[str, Any], default: Callable[[Request], Any] = echo) -> Callable[[Request], Any]:
    """Route on a substring of the last user message; a list value is played in order (last one repeats)."""
    state = {k: (list(v) if isinstance(v, list) else [v]) for k, v in routes.items()}
    lock = threading.Lock()

    def handler(req: Request) -> Any:
        text = last_user(req)
        with lock:
            for needle, actions in state.items():
                if needle in text:
                    return actions.pop(0) if len(actions) > 1 else actions[0]
        return default(req)

    return handler


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 512  # the default backlog of 5 resets connections under a concurrent client
    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up (timeout) makes the late answer fail to send: expected, not news


class FakeOpenAI:
    def __init__(self, handler: Callable[[Request], Any] = echo, model: str = "fake-model", owned_by: str = "fake"):
        self.handler, self.model, self.owned_by = handler, model, owned_by
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def completions(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/completions")]

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _record(self, path: str, body: Any, headers: dict) -> Request:
        with self._lock:
            req = Request(path, body, headers, len(self.requests))
            self.requests.append(req)
            return req


def _completion(server: FakeOpenAI, req: Request, say: Say) -> dict:
    words_in = sum(len(str(m.get("content") or "").split()) for m in req.messages)
    message = {"role": "assistant", "content": say.text}
    if say.tool_calls:
        message["tool_calls"] = say.tool_calls
    if say.reasoning:
        message["reasoning_content"] = say.reasoning
    usage = say.usage or {"prompt_tokens": words_in + 1, "completion_tokens": len(say.text.split()) + 1}
    usage = {**usage, "total_tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)}
    return {"id": f"cmpl-{req.index}", "object": "chat.completion", "model": server.model,
            "choices": [{"index": 0, "message": message, "finish_reason": say.finish_reason}], "usage": usage}


def _make_handler(server: FakeOpenAI):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: str, content_type: str = "application/json") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            server._record(self.path, None, dict(self.headers))
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, json.dumps({"object": "list", "data": [
                    {"id": server.model, "object": "model", "owned_by": server.owned_by}]}))
            else:
                self._send(404, '{"error": "not found"}')

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            req = server._record(self.path, body, dict(self.headers))
            self._act(req, server.handler(req))

        def _act(self, req: Request, action: Any) -> None:
            if isinstance(action, Block):
                action.event.wait(action.timeout)
                return self._act(req, action.then)
            if isinstance(action, Hang):
                time.sleep(action.seconds)
                return self._act(req, action.then)
            if isinstance(action, Reset):
                self.close_connection = True
                # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer".
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return None
            if isinstance(action, Drip):
                return self._drip(req, action)
            if isinstance(action, Fail):
                return self._send(action.status, action.body)
            if isinstance(action, Garbage):
                return self._send(200, action.body)
            if isinstance(action, Say):
                if action.delay:
                    time.sleep(action.delay)
                return self._send(200, json.dumps(_completion(server, req, action)))
            raise TypeError(f"unknown fake action {action!r}")

        def _drip(self, req: Request, action: Drip) -> None:
            data = json.dumps(_completion(server, req, Say("dripped"))).encode("utf-8")
            started = time.monotonic()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.close_connection = True
            try:
                for i in range(len(data)):
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    # Wait one interval, or less if the client hangs up (readable with nothing to read).
                    ready, _, _ = select.select([self.connection], [], [], action.interval)
                    if ready and not self.connection.recv(1, socket.MSG_PEEK):
                        break
            except OSError:
                pass
            action.held.append(time.monotonic() - started)

    return Handler
