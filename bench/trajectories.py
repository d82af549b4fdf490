"""Trajectory formats and turn labelling: converter throughput and streaming memory.

    python bench/trajectories.py                       # 1k and 10k synthetic trajectories
    python bench/trajectories.py --sizes 500 5000 --turns 20

1. Converters: OpenAI -> Qwen/Hermes text -> MiroThinker XML -> OpenAI (with the lossless check of every
   hop) against a plain json.dumps + json.loads of the same messages, in this process: the ratio is the
   price of an exact format round trip relative to merely serializing the trajectory.
2. `synth label turns --judge rule` on JSONL inputs of growing size, each run in its own process: peak RSS
   and trajectories/s, against the RSS of a baseline that loads the same input into memory with json (what
   a non-streaming script would do). Synth's RSS must stay flat as the input grows.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORDS = ["search", "open", "page", "document", "entity", "language", "compiler", "kernel", "network", "answer", "evidence", "link"]


def trajectory(i: int, turns: int, result_chars: int) -> dict:
    rng = random.Random(i)
    messages = [{"role": "system", "content": "You are a deep-search agent."},
                {"role": "user", "content": f"Question {i}: which entity links to {rng.choice(WORDS)}?"}]
    for t in range(turns):
        call = {"id": f"call_{t}_0", "type": "function",
                "function": {"name": rng.choice(["search", "open"]),
                             "arguments": json.dumps({"query": " ".join(rng.choices(WORDS, k=4))})}}
        messages.append({"role": "assistant", "reasoning_content": " ".join(rng.choices(WORDS, k=30)),
                         "tool_calls": [call]})
        body = " ".join(rng.choices(WORDS, k=result_chars // 7))[:result_chars]
        messages.append({"role": "tool", "tool_call_id": call["id"], "name": call["function"]["name"],
                         "content": json.dumps({"results": [{"doc_id": f"d{rng.randrange(5000)}", "snippet": body}]})})
    messages.append({"role": "assistant", "content": "<answer>entity</answer>"})
    return {"id": f"traj-{i}", "question": messages[1]["content"], "answer": "entity", "messages": messages,
            "evidence": {"answer_doc_id": "d1", "docs": [f"d{k}" for k in range(0, 5000, 7)], "facts": []}}


def bench_converters(n: int, turns: int) -> None:
    from synth.pipelines.trajectories import formats

    data = [trajectory(i, turns, 600)["messages"] for i in range(n)]
    count = sum(len(m) for m in data)
    start = time.perf_counter()
    for messages in data:
        json.loads(json.dumps(messages, ensure_ascii=False))
    base = time.perf_counter() - start
    start = time.perf_counter()
    for messages in data:
        text, patch = formats.encode(messages, "hermes")
        xml, patch2 = formats.convert(text, "hermes", "mcp_xml", patch)
        assert formats.decode(xml, "mcp_xml", patch2) == messages
    ours = time.perf_counter() - start
    print(f"converters: {n} trajectories, {count} messages")
    print(f"  json dumps+loads baseline : {count / base:12,.0f} messages/s")
    print(f"  openai->hermes->mcp->openai: {count / ours:12,.0f} messages/s  (3 exact hops, {ours / base:.1f}x the "
          f"time of one serialization round trip)")


def _measure(code: str, *args: str) -> tuple[float, int]:
    """(seconds, peak RSS in MiB of the child) of `python -c code args`."""
    wrapper = ("import resource, subprocess, sys, time; t = time.time(); "
               "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "assert r.returncode == 0, r.stderr[-2000:]; "
               "print(time.time() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-c", code, *args], capture_output=True,
                         text=True, cwd=REPO, check=False)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    seconds, rss = out.stdout.split()
    return float(seconds), int(rss) // 1024


LABEL = ("import sys; from synth.cli import app; "
         "app(['label', 'turns', sys.argv[1], '--out', sys.argv[2], '--json'], standalone_mode=False)")
LOAD_ALL = "import json, sys; data = [json.loads(line) for line in open(sys.argv[1])]; print(len(data))"


def bench_labels(sizes: list[int], turns: int, workdir: Path) -> None:
    print(f"label turns (rule), {turns} tool turns per trajectory, ~1 kB per tool result:")
    print(f"  {'trajectories':>12} {'input MB':>9} {'synth s':>8} {'traj/s':>8} {'synth RSS':>10} {'load-all RSS':>13}")
    for n in sizes:
        src = workdir / f"in-{n}.jsonl"
        with open(src, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(trajectory(i, turns, 1000)) + "\n" for i in range(n))
        seconds, rss = _measure(LABEL, str(src), str(workdir / f"out-{n}"))
        _, base_rss = _measure(LOAD_ALL, str(src))
        size = src.stat().st_size / 2**20
        print(f"  {n:>12,} {size:>9.0f} {seconds:>8.1f} {n / seconds:>8.0f} {rss:>7} MiB {base_rss:>10} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    bench_converters(500, args.turns)
    with tempfile.TemporaryDirectory() as tmp:
        bench_labels(args.sizes, args.turns, Path(tmp))
    print(f"(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB)")


if __name__ == "__main__":
    main()
