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

    def run(self) -> None:
        self.first = self.read()
        while not self.stop.wait(0.1):
            rss, threads = self.read()
            self.peak_rss, self.peak_threads = max(self.peak_rss, rss), max(self.peak_threads, threads)


async def client(url: str, requests: int, offset: int, latencies: dict, counts: dict, deadline: float) -> None:
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, limits=limits,
                                 timeout=120) as http:
        for i in range(requests):
            tool = CYCLE[(offset + i) % len(CYCLE)]
            started = time.perf_counter()
            while time.monotonic() < deadline:
                try:
                    response = await http.post(f"/tools/{tool}", json=ARGS[tool])
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
            latencies.setdefault(tool, []).append(time.perf_counter() - started)


def drive(url: str, clients: int, requests: int, budget_s: float) -> tuple[dict, dict, float]:
    from collections import Counter

    latencies: dict[str, list[float]] = {}
    counts: Counter = Counter()
    deadline = time.monotonic() + budget_s

    async def main():
        await asyncio.gather(*(client(url, requests, c, latencies, counts, deadline) for c in range(clients)))

    started = time.perf_counter()
    asyncio.run(main())
    return latencies, dict(counts), time.perf_counter() - started


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


def report(args, base, load, counts, seconds, closed, sampler) -> None:
    every = [v for values in load.values() for v in values]
    lone = [v for values in base.values() for v in values]
    print(f"clients {args.clients} x {args.requests} requests: {len(every)} calls in {seconds:.1f} s "
          f"({len(every) / seconds:.0f}/s); outcomes {counts}")
    print(f"latency p50 {pct(every, 0.5) * 1e3:.1f} ms, p99 {pct(every, 0.99) * 1e3:.1f} ms "
          f"(one lone client: p50 {pct(lone, 0.5) * 1e3:.1f} ms; ratio p50 {pct(every, 0.5) / pct(lone, 0.5):.1f}x)")
    for tool, values in sorted(load.items()):
        print(f"  {tool:7s} n={len(values):5d} p50 {pct(values, 0.5) * 1e3:8.1f} ms  p99 {pct(values, 0.99) * 1e3:8.1f} ms")
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
    parser.add_argument("--budget-s", type=float, default=540.0, help="stop retrying after this long")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(build_corpus(Path(tmp)), args.request_timeout, args.python_workers)
        try:
            sampler = Sampler(proc.pid)
            sampler.start()
            base, _, _ = drive(url, 1, len(CYCLE) * 2, args.budget_s)
            load, counts, seconds = drive(url, args.clients, args.requests, args.budget_s)
            closed = slow_loris(url, args.slow_loris, args.request_timeout)
            sampler.stop.set()
            report(args, base, load, counts, seconds, closed, sampler)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ok = counts.get("connection_errors", 0) == 0 and max(closed) <= args.request_timeout * 1.1 + 0.5
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
