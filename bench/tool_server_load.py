"""Load test of `synth serve tools` (issue 28): many concurrent agents, then slow-loris connections.

    python bench/tool_server_load.py --clients 256 --requests 20

Starts the real CLI (`synth serve tools`, 127.0.0.1, port 0, a bm25 corpus built from the test documents)
and drives it from this process: C clients (each its own keep-alive connection) make R calls each, cycling
search, open, search, open, python; a 429/503 is retried after its Retry-After, as an agent would. Then
100 connections send half a request and stall; each must be closed within --request-timeout. Reported:
connection errors, p50/p99 latency (overall and per tool, retries included) against one lone client
measured first (the ratio), and the server's resident memory and thread count, sampled every 0.1 s.
Everything is bounded in count and time and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TOKEN = "load-test-token"
CYCLE = ("search", "open", "search", "open", "python")
ARGS = {"search": {"query": "programming language designed by Niklaus Wirth", "k": 5, "mode": "bm25"},
        "open": {"doc_id": "wirth"}, "python": {"code": "print(sum(range(1000)))"}}


def build_corpus(folder: Path) -> Path:
    from synth.env.build import BuildConfig, build_corpus
    from tests.env.helpers import write_jsonl

    out = folder / "corpus"
    build_corpus(str(write_jsonl(folder / "docs.jsonl")), out, BuildConfig(dense=False, show_progress=False))
    return out


def start_server(corpus: Path, request_timeout: float, python_workers: int) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "SYNTH_TOOLS_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "synth.cli", "serve", "tools", "--corpus", str(corpus), "--port",
                             "0", "--mode", "bm25", "--request-timeout", str(request_timeout), "--python-workers",
                             str(python_workers)], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if found := re.search(r"on (http://\S+)", line):
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining
            return proc, found.group(1)
    raise RuntimeError(f"server did not start (exit {proc.wait()})")


class Sampler(threading.Thread):
    """Peak resident memory and thread count of the server process, from /proc."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.stop, self.peak_rss, self.peak_threads, self.first = pid, threading.Event(), 0, 0, None

    def read(self) -> tuple[int, int]:
        text = Path(f"/proc/{self.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) * 1024
        return rss, int(re.search(r"Threads:\s+(\d+)", text).group(1))

    def cpu_seconds(self) -> float:
        """CPU time of the server and its reaped children (the sandbox runs), from /proc/PID/stat."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        self.first = self.read()
        while not self.stop.wait(0.1):
            rss, threads = self.read()
            self.peak_rss, self.peak_threads = max(self.peak_rss, rss), max(self.peak_threads, threads)


def server_timing(header: str) -> dict[str, float]:
    """`Server-Timing: work;dur=1.2, ...` -> {"work": 0.0012, ...} (seconds)."""
    stages = {}
    for part in filter(None, (p.strip() for p in header.split(","))):
        name, _, dur = part.partition(";dur=")
        stages[name] = float(dur) / 1e3
    return stages


async def loop_lag(lags: list[float], stop: asyncio.Event) -> None:
    """How late this (client) event loop wakes from a 50 ms sleep: the client's own CPU starvation."""
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(0.05)
        lags.append(time.perf_counter() - asked - 0.05)


def arguments(tool: str, client_no: int, call_no: int) -> dict:
    """Arguments unique per call (but for `open`), so the server's tool cache does not answer for the
    tool: every python call is a real sandbox run, every search a real BM25 query."""
    if tool == "python":
        return {"code": f"print(sum(range({client_no * 1000 + call_no})))"}
    if tool == "search":
        return {**ARGS["search"], "query": f"{ARGS['search']['query']} c{client_no} n{call_no}"}
    return ARGS[tool]


def new_http(url: str, tls):
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    # `verify=tls`: one SSL context for every client. httpx builds (and loads the CA bundle into) a new one
    # per client otherwise: ~150 ms of CPU each, which blocks this event loop (see --legacy-client).
    return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, limits=limits,
                             timeout=120, verify=tls)


async def client(http, requests: int, offset: int, latencies: dict, counts: dict, deadline: float,
                 stages: dict) -> None:
    import httpx

    async with http:
        for i in range(requests):
            tool = CYCLE[(offset + i) % len(CYCLE)]
            started, response = time.perf_counter(), None
            while time.monotonic() < deadline:
                try:
                    response = await http.post(f"/tools/{tool}", json=arguments(tool, offset, i))
                except httpx.TransportError as exc:
                    counts["connection_errors"] += 1
                    counts[f"error_{type(exc).__name__}"] += 1
                    break
                if response.status_code in (429, 503):
                    counts[f"retried_{response.status_code}"] += 1
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                    continue
                counts[f"status_{response.status_code}"] += 1
                break
            latency = time.perf_counter() - started
            latencies.setdefault(tool, []).append(latency)
            if response is not None and "server-timing" in response.headers:
                timing = server_timing(response.headers["server-timing"])
                # outside the handler: the client, the network, and the server's loop before/after the handler
                timing["outside"] = latency - timing.get("handler", 0.0)
                for stage, seconds in timing.items():
                    stages.setdefault(tool, {}).setdefault(stage, []).append(seconds)


async def legacy_client(url: str, *args) -> None:
    """Round two's client: its AsyncClient (and SSL context) built inside the load, blocking the loop."""
    await client(new_http(url, True), *args)


def drive(url: str, clients: int, requests: int, budget_s: float,
          legacy: bool = False) -> tuple[dict, dict, float, dict]:
    import ssl

    from collections import Counter

    latencies: dict[str, list[float]] = {}
    stages: dict[str, dict[str, list[float]]] = {"client loop lag": {}}
    counts: Counter = Counter()
    deadline = time.monotonic() + budget_s

    async def main():
        stop, lags = asyncio.Event(), stages["client loop lag"].setdefault("lag", [])
        monitor = asyncio.create_task(loop_lag(lags, stop))
        if legacy:
            await asyncio.gather(*(legacy_client(url, requests, c, latencies, counts, deadline, stages)
                                   for c in range(clients)))
        else:
            tls = ssl.create_default_context()
            https = [new_http(url, tls) for _ in range(clients)]  # an agent fleet's clients exist before the load
            await asyncio.gather(*(client(https[c], requests, c, latencies, counts, deadline, stages)
                                   for c in range(clients)))
        stop.set()
        await monitor

    started = time.perf_counter()
    asyncio.run(main())
    return latencies, dict(counts), time.perf_counter() - started, stages


def slow_loris(url: str, connections: int, limit_s: float) -> list[float]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    socks = []
    for _ in range(connections):
        sock = socket.create_connection((host, int(port)), timeout=limit_s * 3)
        sock.sendall(b"POST /call HTTP/1.1\r\nHost: x\r\nContent-Le")  # and nothing more
        socks.append(sock)
    started, closed = time.monotonic(), []
    for sock in socks:
        try:
            while sock.recv(4096):
                pass
            closed.append(time.monotonic() - started)
        except TimeoutError:
            closed.append(float("inf"))  # still open after 3x the limit
        sock.close()
    return closed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report(args, base, load, counts, seconds, closed, sampler, stages, cpu) -> None:
    every = [v for values in load.values() for v in values]
    lone = [v for values in base.values() for v in values]
    print(f"clients {args.clients} x {args.requests} requests: {len(every)} calls in {seconds:.1f} s "
          f"({len(every) / seconds:.0f}/s); outcomes {counts}")
    print(f"latency p50 {pct(every, 0.5) * 1e3:.1f} ms, p99 {pct(every, 0.99) * 1e3:.1f} ms "
          f"(one lone client: p50 {pct(lone, 0.5) * 1e3:.1f} ms; ratio p50 {pct(every, 0.5) / pct(lone, 0.5):.1f}x)")
    for tool, values in sorted(load.items()):
        print(f"  {tool:7s} n={len(values):5d} p50 {pct(values, 0.5) * 1e3:8.1f} ms  p99 {pct(values, 0.99) * 1e3:8.1f} ms")
    calls = max(1, len(every))
    print(f"CPU during the load: server {cpu[0]:.1f} s (sandbox children included; {cpu[0] / calls * 1e3:.1f} ms/call), "
          f"this client {cpu[1]:.1f} s ({cpu[1] / calls * 1e3:.1f} ms/call), over {seconds:.1f} s on "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    print("per stage (server-measured from Server-Timing; outside = client latency - handler):")
    for tool, table in sorted(stages.items()):
        cells = [f"{stage} {pct(v, 0.5) * 1e3:.1f}/{pct(v, 0.99) * 1e3:.1f}" for stage, v in table.items()]
        print(f"  {tool:15s} p50/p99 ms: " + ", ".join(cells))
    print(f"slow loris: {len(closed)} connections, all closed after {max(closed):.2f} s "
          f"(limit {args.request_timeout:g} s; min {min(closed):.2f} s)")
    rss0, threads0 = sampler.first
    print(f"server: resident memory {rss0 / 2**20:.0f} MiB at rest, peak {sampler.peak_rss / 2**20:.0f} MiB; "
          f"threads {threads0} at rest, peak {sampler.peak_threads}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=256)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--slow-loris", type=int, default=100)
    parser.add_argument("--request-timeout", type=float, default=5.0)
    parser.add_argument("--python-workers", type=int, default=8)
    parser.add_argument("--legacy-client", action="store_true",
                        help="round two's client (an SSL context built per client during the load), to compare")
    parser.add_argument("--budget-s", type=float, default=540.0, help="stop retrying after this long")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(build_corpus(Path(tmp)), args.request_timeout, args.python_workers)
        try:
            sampler = Sampler(proc.pid)
            sampler.start()
            base, _, _, _ = drive(url, 1, len(CYCLE) * 2, args.budget_s)
            cpu = (sampler.cpu_seconds(), time.process_time())
            load, counts, seconds, stages = drive(url, args.clients, args.requests, args.budget_s, args.legacy_client)
            cpu = (sampler.cpu_seconds() - cpu[0], time.process_time() - cpu[1])
            closed = slow_loris(url, args.slow_loris, args.request_timeout)
            sampler.stop.set()
            report(args, base, load, counts, seconds, closed, sampler, stages, cpu)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ok = counts.get("connection_errors", 0) == 0 and max(closed) <= args.request_timeout * 1.1 + 0.5
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
