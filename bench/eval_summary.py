"""`synth eval` summary statistics: streaming, constant memory.

    python bench/eval_summary.py [--records 20000] [--scale 10]

Writes two synthetic `eval_result` datasets (N and scale*N tasks, 2 rollouts each with short trajectories) and
computes the manifest statistics of each (`pipelines/eval/summary.py: deepsearch_stats`) in a fresh process.
Prints records/s, the ratio against a baseline measured in the same process (pyarrow reading the same files
with every column materialized, the least any reader does), and each process's peak RSS: the large/small RSS
ratio should stay near 1 because the summary keeps only per-group counters.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import resource, sys, time, json
import pyarrow.parquet as pq
from pathlib import Path
from synth.pipelines.eval.summary import deepsearch_stats
out = Path(sys.argv[1])
deepsearch_stats(out.parent / "warm")  # imports and first-call setup, outside both timings
def read():
    t = time.perf_counter()
    rows = sum(pq.read_table(f).num_rows for f in sorted((out / "data").glob("*.parquet")))
    return rows, time.perf_counter() - t
rows, base = min(read(), read(), key=lambda r: r[1])
t = time.perf_counter(); stats = deepsearch_stats(out); took = time.perf_counter() - t
print(json.dumps({"rows": rows, "items": stats["items"], "seconds": took, "baseline": base,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def record(i: int) -> dict:
    samples = []
    for k in range(2):
        messages = [{"role": "system", "content": "agent"}, {"role": "user", "content": f"question {i}?"}]
        for t in range(3):
            messages += [{"role": "assistant", "content": f'<tool_call>{{"name": "search", "arguments": "q{t}"}}'},
                         {"role": "tool", "content": "result " * 40}]
        samples.append({"sample": k, "passed": (i + k) % 3 == 0, "stop": "answer", "turns": 4, "tool_calls": 3,
                        "predicted_answer": "x", "messages": messages})
    passed = sum(s["passed"] for s in samples)
    return {"id": f"t{i}", "suite": "deepsearch", "item_id": f"t{i}", "tier": ("easy", "rl", "hard")[i % 3],
            "hops": 2 + i % 3, "topology": ("chain", "tree", "cycle")[i % 3], "entities": [f"d{i}", f"d{i + 1}"],
            "samples": samples, "passed": passed, "score": passed / 2, "failure": None if passed else "wrong_answer"}


def write(out: Path, n: int, shard: int = 5000) -> None:
    import pyarrow.parquet as pq

    from synth.arrow import table

    (out / "data").mkdir(parents=True)
    for s, start in enumerate(range(0, n, shard)):
        pq.write_table(table([record(i) for i in range(start, min(n, start + shard))], "eval_result"),
                       out / "data" / f"00000_{s:05d}.parquet")


def measure(out: Path) -> dict:
    res = subprocess.run([sys.executable, "-c", _CHILD, str(out)], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp) / "warm", 10)
        results = {}
        for n in (args.records, args.records * args.scale):
            write(Path(tmp) / str(n), n)
            results[n] = measure(Path(tmp) / str(n))
            r = results[n]
            assert r["items"] == n == r["rows"]
            print(f"{n:>8} tasks: {n / r['seconds']:>9.0f} tasks/s  summary/read-baseline time ratio "
                  f"{r['seconds'] / r['baseline']:.2f}  peak RSS {r['rss_mib']:.0f} MiB")
        small, large = results[args.records], results[args.records * args.scale]
        print(f"peak RSS ratio {args.scale}x input: {large['rss_mib'] / small['rss_mib']:.2f} (streaming: ~1)")


if __name__ == "__main__":
    main()
