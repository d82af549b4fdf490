"""`synth serve tools`: the corpus tools over HTTP/JSON for many concurrent agents (Starlette on uvicorn).

    GET  /health              {"status": "ok", "corpus_version": ..., "documents": n, "tools": [...]} (no token)
    GET  /metrics             Prometheus text: requests by route and status, latency, seconds per tool and
                              stage (python_wait, thread_wait, work, resume, handler), in flight, the python
                              queue, threads and resident memory
    GET  /tools               OpenAI function schemas (pass them as `tools=` to a chat completion)
    POST /call                {"name": "search", "arguments": {...} or "<JSON text>", "question": optional}
                              -> {"result": {...}}   (arguments as in an OpenAI tool call)
    POST /tools/NAME          body = the arguments object -> {"result": {...}}
Every tool call's answer carries `Server-Timing: STAGE;dur=MS, ...` with the same stages, so a client can
tell the server's queues from its own. Every route but /health needs `Authorization: Bearer TOKEN` (401
otherwise). Bad requests (unknown tool,
invalid arguments, malformed JSON) get HTTP 400 and {"error": code, "message": ...}; a missing document is a
normal result ({"error": "doc_not_found"}), as an agent should see it. `question` turns on the 13-gram leak
guard for that call.

Why this stack: uvicorn (h11) parses HTTP and refuses malformed framing itself (a `Content-Length: -1` or
`abc` is a 400, no thread involved); connections are coroutines, not threads, so hundreds of agents and
idle keep-alives cost little; tool calls (CPU-bound search, sandboxed python) run on a bounded thread pool.
Limits, all in `ServerLimits`: the listen backlog, a deadline for receiving a whole request (slow-loris
connections are closed, see `_DeadlineH11`), a deadline per tool call (504), a body cap (413, after
draining a moderately oversized body so the client reads the answer), and the python queue: a few
sandbox runs at a time, a bounded queue behind them, 429 when the queue is full and 503 when a queued call
waited too long, both with Retry-After.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass

from synth.env.tools import ToolBox, ToolError

TOKEN_ENV = "SYNTH_TOOLS_TOKEN"


@dataclass
class ServerLimits:
    backlog: int = 2048              # pending connections the kernel queues (capped by net.core.somaxconn)
    max_connections: int = 4096      # open connections + requests beyond which uvicorn answers 503
    threads: int = 16                # tool calls running at once (the rest wait, as coroutines); more threads
    #                                  only starve the event loop of the GIL (search is CPU-bound Python)
    request_read_s: float = 10.0     # a whole request (headers and body) must arrive within this of its first byte
    keep_alive_s: float = 75.0       # an idle connection (keep-alive, or new and silent) is closed after this
    call_s: float = 60.0             # a tool call answers within this, else 504
    max_body: int = 1 << 20          # larger bodies get 413
    drain_body: int = 16 << 20       # ...read and dropped up to this size first, so the client sees the 413
    python_workers: int = 8          # sandbox runs at once (the sandbox allows 64 per process)
    python_queue: int = 256          # python calls waiting for a worker; more get 429
    python_wait_s: float = 30.0      # a queued python call waiting longer gets 503


class _Metrics:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests: Counter = Counter()  # (route, status) -> n
        self.latency_sum: Counter = Counter()
        self.in_flight = 0
        self.python_running = 0
        self.python_waiting = 0
        self.stage_sum: Counter = Counter()  # (tool, stage) -> seconds
        self.stage_count: Counter = Counter()
        self.stage_max: dict = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        with self.lock:
            self.requests[(route, status)] += 1
            self.latency_sum[route] += seconds

    def observe_stages(self, tool: str, stages: dict[str, float]) -> None:
        with self.lock:
            for stage, seconds in stages.items():
                self.stage_sum[(tool, stage)] += seconds
                self.stage_count[(tool, stage)] += 1
                self.stage_max[(tool, stage)] = max(self.stage_max.get((tool, stage), 0.0), seconds)

    def text(self) -> str:
        lines = ["# TYPE synth_tools_requests_total counter"]
        lines += [f'synth_tools_requests_total{{route="{r}",status="{s}"}} {n}' for (r, s), n in sorted(self.requests.items())]
        lines.append("# TYPE synth_tools_request_seconds_sum counter")
        lines += [f'synth_tools_request_seconds_sum{{route="{r}"}} {v:.6f}' for r, v in sorted(self.latency_sum.items())]
        for name, table in (("sum", self.stage_sum), ("count", self.stage_count), ("max", self.stage_max)):
            lines.append(f"# TYPE synth_tools_stage_seconds_{name} {'gauge' if name == 'max' else 'counter'}")
            lines += [f'synth_tools_stage_seconds_{name}{{tool="{t}",stage="{st}"}} {v:.6f}'
                      for (t, st), v in sorted(table.items())]
        lines += [f"synth_tools_in_flight {self.in_flight}", f"synth_tools_python_running {self.python_running}",
                  f"synth_tools_python_waiting {self.python_waiting}",
                  f"process_threads {threading.active_count()}", f"process_resident_memory_bytes {_rss()}"]
        return "\n".join(lines) + "\n"


def _rss() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


def _error(status: int, code: str, message: str, headers: dict | None = None):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


class _PythonQueue:
    """A few sandbox runs at a time, a bounded queue behind them (429 when full, 503 after waiting too long)."""

    def __init__(self, limits: ServerLimits, metrics: _Metrics):
        self.limits, self.metrics = limits, metrics
        self.slots = asyncio.Semaphore(limits.python_workers)

    async def __aenter__(self):
        m = self.metrics
        if m.python_waiting >= self.limits.python_queue:
            raise _Refused(429, "busy", f"{m.python_waiting} python calls already queued", {"Retry-After": "1"})
        m.python_waiting += 1
        try:
            await asyncio.wait_for(self.slots.acquire(), self.limits.python_wait_s)
        except TimeoutError:
            raise _Refused(503, "busy", f"no python worker free within {self.limits.python_wait_s:g} s",
                           {"Retry-After": "5"}) from None
        finally:
            m.python_waiting -= 1
        m.python_running += 1

    async def __aexit__(self, *exc):
        self.metrics.python_running -= 1
        self.slots.release()


async def _read_body(request, limits: ServerLimits) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_body:
        if int(declared) <= limits.drain_body:
            async for _ in request.stream():  # read it all, so the client is not cut off mid-upload
                pass
        raise _Refused(413, "too_large", f"request body over {limits.max_body} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limits.max_body:
            raise _Refused(413, "too_large", f"request body over {limits.max_body} bytes")
    return bytes(body)


def _parse_call(path: str, raw: bytes) -> tuple[str, object, str | None]:
    try:
        body = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _Refused(400, "invalid_json", str(exc)) from None
    if not isinstance(body, dict):
        raise _Refused(400, "invalid_json", "expected a JSON object")
    if path == "/call":
        question = body.get("question")
        return str(body.get("name")), body.get("arguments"), question if isinstance(question, str) else None
    question = body.pop("question", None)
    return path[len("/tools/"):], body, question if isinstance(question, str) else None


def build_app(box: ToolBox, token: str, limits: ServerLimits | None = None):
    """The Starlette app: routes, auth, limits and metrics around one ToolBox."""
    import anyio
    import anyio.to_thread
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    limits = limits or ServerLimits()
    metrics = _Metrics()
    state: dict = {}
    expected = f"Bearer {token}".encode()

    def authorized(request) -> bool:
        return hmac.compare_digest(request.headers.get("authorization", "").encode(), expected)

    async def health(request):
        return JSONResponse({"status": "ok", "corpus_version": box.corpus.version, "documents": len(box.corpus),
                             "tools": list(box.tools)})

    async def run_tool(name: str, arguments, question, stages: dict[str, float]):
        marks: dict[str, float] = {}

        def call():
            marks["begin"] = time.perf_counter()
            try:
                return box.call(name, arguments, question=question)
            finally:
                marks["end"] = time.perf_counter()

        submitted = time.perf_counter()
        # python calls wait on the sandbox (no GIL held) on threads of their own: they never hold the
        # threads of the CPU-bound tools, so a burst of python calls does not delay search and open.
        limiter = state["python_threads" if name == "python" else "limiter"]
        work = anyio.to_thread.run_sync(call, limiter=limiter)
        try:
            result = await asyncio.wait_for(work, limits.call_s)
        except TimeoutError:
            raise _Refused(504, "timeout", f"{name} did not answer within {limits.call_s:g} s") from None
        # Where a call's time goes: waiting for a tool thread, the tool itself, and the event loop taking
        # the result back (a loop starved of the GIL shows here, not in the tool).
        stages.update(thread_wait=marks["begin"] - submitted, work=marks["end"] - marks["begin"],
                      resume=time.perf_counter() - marks["end"])
        return result

    async def tools(request, stages: dict[str, float]):
        if request.method == "GET":
            return JSONResponse(box.schemas()), None
        name, arguments, question = _parse_call(request.url.path, await _read_body(request, limits))
        if name == "python" and "python" in box.tools:
            queued = time.perf_counter()
            async with state["python"]:
                stages["python_wait"] = time.perf_counter() - queued
                result = await run_tool(name, arguments, question, stages)
        else:
            result = await run_tool(name, arguments, question, stages)
        return JSONResponse({"result": result}), name

    async def dispatch(request):
        route = request.url.path if request.url.path in ("/call", "/tools", "/metrics") else "/tools/NAME"
        if not authorized(request):
            return _error(401, "unauthorized", "send Authorization: Bearer TOKEN (printed by `synth serve tools`, "
                          f"or set in {TOKEN_ENV})", {"WWW-Authenticate": "Bearer"})
        if route == "/metrics":
            return PlainTextResponse(metrics.text())
        started, stages, tool = time.perf_counter(), {}, None
        metrics.in_flight += 1
        try:
            response, tool = await tools(request, stages)
        except _Refused as exc:
            response = _error(exc.status, exc.code, str(exc), exc.headers)
        except ToolError as exc:
            response = _error(400, exc.code, str(exc))
        except Exception as exc:  # noqa: BLE001 - keep serving; the caller gets one line
            response = _error(500, "internal_error", f"{type(exc).__name__}: {exc}")
        finally:
            metrics.in_flight -= 1
        stages["handler"] = time.perf_counter() - started
        metrics.observe(route, response.status_code, stages["handler"])
        if tool is not None and tool in box.tools:
            metrics.observe_stages(tool, stages)
        response.headers["Server-Timing"] = ", ".join(f"{k};dur={v * 1e3:.3f}" for k, v in stages.items())
        return response

    @contextlib.asynccontextmanager
    async def lifespan(app):  # inside the server's event loop: the limiter and semaphores belong to it
        state["limiter"] = anyio.CapacityLimiter(limits.threads)
        state["python"] = _PythonQueue(limits, metrics)
        state["python_threads"] = anyio.CapacityLimiter(limits.python_workers)
        yield

    async def not_found(request, exc):
        return _error(404, "not_found", f"no route {request.url.path}; see /health, /tools, /call")

    routes = [Route("/health", health, methods=["GET"]), Route("/metrics", dispatch, methods=["GET"]),
              Route("/tools", dispatch, methods=["GET"]), Route("/call", dispatch, methods=["POST"]),
              Route("/tools/{name}", dispatch, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found, 405: not_found})


def _deadline_protocol(read_s: float, idle_s: float):
    """uvicorn's h11 protocol with a deadline for receiving each whole request, counted from its first
    byte: uvicorn itself times out only idle keep-alive connections, so a client sending half a request,
    a byte now and then (slow loris), would be held forever. A new connection that sends nothing is idle:
    it is closed after `idle_s`, like a keep-alive connection between requests.

    Counting from the first byte matters under load: the first version counted from the connection (or the
    previous response), and a client starved of CPU for `read_s` before it wrote its next request lost its
    connection (RemoteProtocolError in the 256-client load test, 7 of 5,120 calls)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class _DeadlineH11(H11Protocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm(idle_s)

        def data_received(self, data: bytes) -> None:
            if self._between_requests():
                self._arm(read_s)  # the first byte of a request: all of it must arrive within read_s
            super().data_received(data)

        def on_response_complete(self):
            super().on_response_complete()
            # Idle from now on: uvicorn's keep-alive timeout; a pipelined request already begun: read_s.
            self._disarm() if self._between_requests() else self._arm(read_s)

        def connection_lost(self, exc):
            self._disarm()
            super().connection_lost(exc)

        def _between_requests(self) -> bool:
            return self.conn.their_state is h11.IDLE and not self.conn.trailing_data[0]

        def _arm(self, seconds: float):
            self._disarm()
            self._request_deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self):
            handle = getattr(self, "_request_deadline", None)
            if handle is not None:
                handle.cancel()
                self._request_deadline = None

        def _expire(self):
            # Half a request (headers or body), or a connection that never sent a byte: nothing to answer.
            # A request received whole (being answered) is the call deadline's business, not this one's.
            if not self.transport.is_closing() and self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
                self.transport.close()

    return _DeadlineH11


def new_token() -> str:
    return os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ToolServer:
    """A running server; `port=0` picks a free port (read it back from `.port`); `.token` is the bearer token."""

    def __init__(self, box: ToolBox, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 limits: ServerLimits | None = None):
        import uvicorn

        self.limits = limits or ServerLimits()
        self.token = token or new_token()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
            self.sock.listen(self.limits.backlog)
        except OSError:
            self.sock.close()
            raise
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(
            build_app(box, self.token, self.limits), loop="asyncio", lifespan="on", log_level="warning",
            http=_deadline_protocol(self.limits.request_read_s, self.limits.keep_alive_s), access_log=False,
            backlog=self.limits.backlog, limit_concurrency=self.limits.max_connections,
            timeout_keep_alive=int(self.limits.keep_alive_s), server_header=False)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Run in this thread until SIGINT/SIGTERM (uvicorn's handlers: in-flight calls finish first)."""
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.sock.close()

    def start(self) -> ToolServer:
        # uvicorn listens to signals only in the main thread: this background server stops through stop()
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()
