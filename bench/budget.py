"""Spending caps and dry runs: what they cost.

    python bench/budget.py [--records 1200] [--rounds 2] [--dry-small 20000] [--dry-large 200000]

0. Gate micro-benchmark: acquire + release per request in one event loop, capped vs uncapped.
1. Gate overhead in whole runs: `generate responses` (n=1, in this process) against a scripted server that
   takes 50 ms a request, 64 in flight, (a) without a cap (baseline: the ledger still counts), (b) with
   --max-tokens-total far above the run's need (every request goes through the reservation check). Rounds
   alternate a/b; prints requests/s of each and the ratio b/a (target >= 0.95).
2. Dry-run streaming: `--dry-run` over a small and a 10x larger synthetic prompt file, each in a fresh
   process; prints records/s and each process's peak RSS (their ratio should stay near 1: the projection
   streams the records and keeps only counters).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.teachers.fake_openai import FakeOpenAI, Say


def write_prompts(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps({"id": f"p{i}", "messages": [{"role": "user", "content": f"Write about topic {i}."}]})
                      + "\n" for i in range(n))
    return path


_CHILD = ("import atexit, resource, sys\n"
          "atexit.register(lambda: sys.stderr.write('\\nMAXRSS %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
          "from synth.cli import app\n"
          "sys.argv = ['synth', *sys.argv[1:]]\n"
          "app()\n")


def synth(*args: str) -> tuple[dict, float, int]:
    """(summary, seconds, peak RSS in MiB) of one CLI run in a fresh process (a dry run never leaves it)."""
    started = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _CHILD, *args, "--json"], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    seconds = time.perf_counter() - started
    if res.returncode not in (0, 3):
        raise SystemExit(f"synth {' '.join(args)} failed ({res.returncode}): {res.stderr[-2000:]}")
    rss = next((int(line.split()[1]) for line in res.stderr.splitlines() if line.startswith("MAXRSS ")), 0)
    return json.loads(res.stdout), seconds, rss // 1024


def gate_overhead(tmp: Path, records: int, rounds: int) -> None:
    """Whole runs in this process against a server that takes 50 ms a request (64 in flight): a gate that
    throttled concurrency would show at once (serialized, the run would take records x 50 ms)."""
    from tests.caps.helpers import cli

    src = write_prompts(tmp / "gate.jsonl", records)
    rates: dict[str, list[float]] = {"uncapped": [], "capped": []}
    with FakeOpenAI(lambda req: Say("ok", usage={"prompt_tokens": 12, "completion_tokens": 3}, delay=0.05)) as slow:
        base = ["generate", "responses", str(src), "--teacher", f"openai:{slow.url}", "--model", "fake-model",
                "--n", "1", "--max-concurrency", "64", "--chunk-size", "256", "--json"]
        for r in range(rounds):
            for name, extra in (("uncapped", []), ("capped", ["--max-tokens-total", str(10**12)])):
                started = time.perf_counter()
                res = cli(*base, "--out", str(tmp / f"{name}{r}"), *extra)
                assert res.returncode == 0, res.stderr
                rates[name].append(records / (time.perf_counter() - started))
    best = {k: max(v) for k, v in rates.items()}
    print(f"gate (whole runs, {records} requests of 50 ms, 64 in flight, best of {rounds}): uncapped "
          f"{best['uncapped']:.0f} req/s, capped far from the cap {best['capped']:.0f} req/s, ratio "
          f"{best['capped'] / best['uncapped']:.2f} (serialized would be {1 / 0.05:.0f} req/s)")


def gate_micro(tmp: Path, calls: int = 100_000) -> None:
    """acquire + release of one request, in the event loop, capped (far from the cap) vs uncapped."""
    import asyncio

    from synth.teachers.budget import Budget, Ledger, Spend
    from synth.teachers.gate import Gate

    async def loop(gate: Gate) -> float:
        estimate, used = Spend(50, 1024, 1), Spend(50, 20, 1)
        started = time.perf_counter()
        for _ in range(calls):
            await gate.acquire("r", estimate)
            gate.release(estimate, used)
        return (time.perf_counter() - started) / calls * 1e6

    free = asyncio.run(loop(Gate(Budget(), Ledger(tmp / "free", 0))))
    capped = asyncio.run(loop(Gate(Budget(max_tokens_total=10**12), Ledger(tmp / "capped", 0))))
    print(f"gate (in-process, {calls} requests): uncapped {free:.2f} us/request, capped {capped:.2f} us/request, "
          f"ratio {capped / free:.2f}; at 1000 requests/s the capped gate takes {capped / 10:.1f}% of one core")


def dry_run_stream(server: FakeOpenAI, tmp: Path, small: int, large: int) -> None:
    rows = []
    for n in (small, large):
        src = write_prompts(tmp / f"dry{n}.jsonl", n)
        summary, seconds, rss = synth("generate", "responses", str(src), "--teacher", f"openai:{server.url}",
                                      "--model", "fake-model", "--n", "2", "--out", str(tmp / f"dry{n}"),
                                      "--dry-run", "--price", "0.5:1.5")
        assert summary["requests"] == 2 * n and not (tmp / f"dry{n}").exists()
        rows.append((n, seconds, rss))
        print(f"dry run: {n} records in {seconds:.1f} s ({n / seconds:.0f} records/s, start-up included), "
              f"peak RSS {rss} MiB, projected {summary['prompt_tokens']:,} prompt tokens")
    print(f"dry run: peak RSS ratio {rows[1][0] // rows[0][0]}x records: {rows[1][2] / max(1, rows[0][2]):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dry-small", type=int, default=20000)
    parser.add_argument("--dry-large", type=int, default=200000)
    args = parser.parse_args()
    with FakeOpenAI(lambda req: Say("ok", usage={"prompt_tokens": 12, "completion_tokens": 3})) as server, \
            tempfile.TemporaryDirectory(prefix="bench-budget-") as tmp:
        gate_micro(Path(tmp))
        dry_run_stream(server, Path(tmp), args.dry_small, args.dry_large)
        gate_overhead(Path(tmp), args.records, args.rounds)


if __name__ == "__main__":
    main()
