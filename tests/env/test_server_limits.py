"""Issue 28, point 5: the tool server's auth, limits and queue, over real sockets on 127.0.0.1 (port 0)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import httpx
import pytest

from synth.env.corpus import Corpus
from synth.env.server import ServerLimits, ToolServer
from synth.env.tools import ToolBox
from tests.core.helpers import synth

TOKEN = "limits-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tiny_corpus):
    limits = ServerLimits(request_read_s=1.0, keep_alive_s=3.0, max_body=64 << 10, drain_body=1 << 20)
    srv = ToolServer(ToolBox(Corpus(tiny_corpus)), port=0, token=TOKEN, limits=limits).start()
    yield srv
    srv.stop()


def _raw(server, data: bytes, wait: float = 5.0) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def test_every_route_but_health_needs_the_token(server):
    assert httpx.get(server.url + "/health").status_code == 200
    for method, path in (("GET", "/tools"), ("GET", "/metrics"), ("POST", "/call")):
        refused = httpx.request(method, server.url + path, json={"name": "search", "arguments": {"query": "x"}})
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        wrong = httpx.request(method, server.url + path, headers={"Authorization": "Bearer nope"}, json={})
        assert wrong.status_code == 401
    ok = httpx.post(server.url + "/call", headers=AUTH, json={"name": "search", "arguments": {"query": "Pascal"}})
    assert ok.status_code == 200 and ok.json()["result"]["results"]


def test_metrics_count_requests(server):
    httpx.post(server.url + "/tools/open", headers=AUTH, json={"doc_id": "wirth"})
    text = httpx.get(server.url + "/metrics", headers=AUTH).text
    assert 'synth_tools_requests_total{route="/tools/NAME",status="200"}' in text
    assert "process_threads" in text and "process_resident_memory_bytes" in text


def test_each_call_reports_where_its_time_went(server):
    """Server-Timing on every tool call (the load test splits latency with it) and per-tool stage totals
    in /metrics: waiting for a tool thread, the tool's work, the loop taking the result back."""
    response = httpx.post(server.url + "/tools/search", headers=AUTH, json={"query": "Pascal"})
    stages = dict(part.strip().split(";dur=") for part in response.headers["server-timing"].split(","))
    assert set(stages) == {"thread_wait", "work", "resume", "handler"}
    assert all(float(ms) >= 0 for ms in stages.values())
    assert float(stages["handler"]) >= float(stages["work"])
    text = httpx.get(server.url + "/metrics", headers=AUTH).text
    count = re.search(r'synth_tools_stage_seconds_count\{tool="search",stage="work"\} (\d+)', text)
    assert count and int(count.group(1)) >= 1


@pytest.mark.parametrize("length", [b"-1", b"abc"])
def test_malformed_content_length_is_a_400_not_a_held_thread(server, length):
    reply = _raw(server, b"POST /call HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n{}")
    assert reply.startswith(b"HTTP/1.1 400")


def test_oversized_body_gets_a_413_the_client_can_read(server):
    big = b"x" * (512 << 10)  # over max_body, under drain_body: read, then refused
    response = httpx.post(server.url + "/call", headers=AUTH, content=big)
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    # Declared 1 GiB: refused from the header alone, before the upload.
    head = (f"POST /call HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {1 << 30}\r\n\r\n")
    assert _raw(server, head.encode() + b"x" * 1000).startswith(b"HTTP/1.1 413")


def test_slow_loris_connections_are_closed_within_the_request_deadline(server):
    socks = []
    for _ in range(20):
        sock = socket.create_connection((server.host, server.port), timeout=10)
        sock.sendall(b"POST /call HTTP/1.1\r\nHost: x\r\n")  # half a header block, never finished
        socks.append(sock)
    started = time.monotonic()
    closed_after = []
    for sock in socks:
        assert sock.recv(1) == b""  # EOF: the server hung up
        closed_after.append(time.monotonic() - started)
        sock.close()
    assert max(closed_after) <= server.limits.request_read_s * 1.5 + 0.5


def test_a_silent_connection_is_closed_as_an_idle_one(server):
    started = time.monotonic()
    with socket.create_connection((server.host, server.port), timeout=10) as idle:  # sends nothing at all
        assert idle.recv(1) == b""
    waited = time.monotonic() - started
    assert server.limits.request_read_s < waited <= server.limits.keep_alive_s * 1.5 + 0.5


def test_the_request_deadline_counts_from_the_first_byte(server):
    """A client slow to start its request (starved of CPU, between two calls) is served, not cut off: the
    deadline for a whole request starts at its first byte (7 RemoteProtocolErrors under load before)."""
    pause = server.limits.request_read_s * 1.4  # longer than the request deadline, shorter than keep-alive
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        assert http.post("/tools/open", json={"doc_id": "wirth"}).status_code == 200
        time.sleep(pause)  # idle on the keep-alive connection, then the next call
        assert http.post("/tools/open", json={"doc_id": "wirth"}).status_code == 200
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        time.sleep(pause)  # connected, silent for longer than the request deadline, then a whole request
        body = b'{"doc_id": "wirth"}'
        sock.sendall(b"POST /tools/open HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                     + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        assert sock.recv(64).startswith(b"HTTP/1.1 200")


def test_remote_bind_needs_allow_remote(tiny_corpus):
    res = synth("serve", "tools", "--corpus", str(tiny_corpus), "--host", "0.0.0.0", "--port", "0")
    assert res.returncode == 2 and "--allow-remote" in res.stderr


@pytest.mark.slow
def test_full_python_queue_answers_429_and_503_with_retry_after(tiny_corpus):
    from synth.env.tools import default_sandbox

    sandbox = default_sandbox()
    if sandbox is None:
        pytest.skip("no sandbox backend on this machine")
    limits = ServerLimits(python_workers=1, python_queue=1, python_wait_s=0.5)
    srv = ToolServer(ToolBox(Corpus(tiny_corpus), sandbox=sandbox), port=0, token=TOKEN, limits=limits).start()
    results: dict[str, httpx.Response] = {}

    def call(name):
        results[name] = httpx.post(srv.url + "/tools/python", headers=AUTH, timeout=60,
                                   json={"code": "import time; time.sleep(3); print('done')"})
    try:
        threads = [threading.Thread(target=call, args=(n,)) for n in ("running", "queued", "refused")]
        for thread in threads:
            thread.start()
            time.sleep(0.4 if thread is threads[0] else 0.1)
        for thread in threads:
            thread.join()
    finally:
        srv.stop()
    assert results["running"].status_code == 200 and results["running"].json()["result"]["stdout"].strip() == "done"
    assert results["queued"].status_code == 503 and results["queued"].headers["retry-after"]
    assert results["refused"].status_code == 429 and results["refused"].headers["retry-after"]
    assert json.loads(results["refused"].text)["error"] == "busy"
