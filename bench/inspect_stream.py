"""`synth inspect` cost and memory: one streaming pass, memory flat in the number of records.

    python bench/inspect_stream.py [--records 20000] [--factor 4]

Builds a synthetic trajectory dataset (labelled turns, tool calls) of N and factor*N records, then in a
fresh process per size measures: the baseline (reading every record through synth.dataset, nothing
else), the full statistics pass (`collect`), the HTML render, and peak RSS. Prints collect/baseline
(the price of the statistics over plain reading) and the RSS of both sizes (flat = streaming).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_dataset(out: Path, n: int, shard: int = 5000) -> Path:
    import pyarrow.parquet as pq

    from synth import arrow
    from synth import manifest as mf

    (out / "data").mkdir(parents=True)
    labels = ("essential", "unnecessary", "redundant", "error", "recovery")
    for start in range(0, n, shard):
        rows = []
        for i in range(start, min(n, start + shard)):
            msgs = [{"role": "user", "content": f"question {i}"}]
            for k in range(i % 12 + 1):
                label = labels[(i + k) % 5]
                msgs.append({"role": "assistant", "content": None, "loss": int(label == "essential"),
                             "tool_calls": [{"id": f"c{k}", "type": "function",
                                             "function": {"name": ("search", "visit")[k % 2], "arguments": "{}"}}],
                             "turn_label": {"label": label, "judge": "rule", "scores": {"information_gain": k / 12}}})
                msgs.append({"role": "tool", "tool_call_id": f"c{k}", "content": "result " * 20})
            msgs.append({"role": "assistant", "content": f"answer {i}", "loss": 1})
            rows.append({"id": f"t{i:08d}", "messages": msgs, "judgement": {"correct": i % 3 > 0, "method": "exact"}})
        pq.write_table(arrow.table(rows, "trajectory"), out / "data" / f"00000_{start // shard:05d}.parquet")
    mf.write_manifest(out, {
        "synth_version": mf.synth_version(), "command": "bench", "kind": "trajectory", "status": "complete",
        "config": {}, "config_hash": "bench", "inputs": [], "counts": {"output": n, "rejected": 0, "rejected_by_reason": {}},
        "timings": {"started": "", "finished": "", "seconds": 0.0}, "executor": {"type": "local", "tasks": 1, "workers": 1},
        "versions": {}})
    return out


def measure(folder: str) -> dict:
    """Runs in a fresh process: baseline read, then collect + HTML, then peak RSS."""
    from synth.dataset import read_records
    from synth.report.collect import collect
    from synth.report.html import render_html

    rss_start = _status_mb("VmRSS")  # current RSS after imports (their own peak is higher and not ours)
    _reset_peak()
    t0 = time.perf_counter()
    n = sum(1 for _ in read_records([folder]))
    t1 = time.perf_counter()
    report = collect(Path(folder))
    t2 = time.perf_counter()
    page = render_html(report)
    t3 = time.perf_counter()
    return {"records": n, "read_s": t1 - t0, "collect_s": t2 - t1, "html_s": t3 - t2, "html_kb": len(page) / 1024,
            "rss_start_mb": rss_start, "rss_peak_mb": _status_mb("VmHWM")}


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM, so the peak is the pass's, not the imports'."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--factor", type=int, default=4)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for n in (args.records, args.records * args.factor):
            folder = make_dataset(Path(tmp) / f"n{n}", n)
            out = subprocess.run([sys.executable, __file__, "--measure", str(folder)], capture_output=True, text=True,
                                 check=True, cwd=ROOT)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for r in results:
        print(f"{r['records']:>8} records: read {r['read_s']:.2f}s, collect {r['collect_s']:.2f}s "
              f"(ratio collect/read {r['collect_s'] / r['read_s']:.2f}), html {r['html_s']:.3f}s ({r['html_kb']:.0f} KiB), "
              f"peak RSS {r['rss_peak_mb']:.0f} MiB (after imports {r['rss_start_mb']:.0f} MiB)")
    small, large = results
    print(f"records x{large['records'] / small['records']:.0f} -> peak RSS x{large['rss_peak_mb'] / small['rss_peak_mb']:.2f}")


if __name__ == "__main__":
    main()
