"""Peak memory of the dedup decide stage alone, by run size (issue 23, item 1).

    python bench/dedup_decide.py [--sizes 150000,1000000]

The decide stage was the peak of `synth filter --dedup exact,minhash` at 1M records (round two). Reaching
it through the real pipeline costs the sign stage (~30 min at 1M on the shared 2 cores), so this bench
writes synthetic stage files in the sign/cluster formats, shaped like bench/dedup.py's streaming input at
1M: one sign task, ~30% of rows exact copies of another, ~95% in MinHash clusters of 20. Each size then
runs `DecideStep.run` alone in a fresh child process; printed: its peak RSS (ru_maxrss), seconds, and
the peak ratio between the largest and the smallest size (goal for the whole command: within 10%).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from synth.filters.dedup.decide import DecideOptions, DecideStep
stages, rows = Path(sys.argv[1]), int(sys.argv[2])
step = DecideStep(str(stages / "sign"), str(stages / "minhash_cluster"), str(stages / "decide"), rows, 1,
                  DecideOptions(methods=["exact", "minhash"], kind="generic"))
started = time.perf_counter()
list(step.run())
print(json.dumps({{"seconds": time.perf_counter() - started,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def write_stage_files(stages: Path, rows: int, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    for sub in ("sign/meta", "sign/rejects", "minhash_cluster"):
        (stages / sub).mkdir(parents=True, exist_ok=True)
    (stages / "sign" / "rejects" / "00000.jsonl").write_bytes(b"")
    exact = rng.integers(1, 2**63, rows, dtype=np.uint64)
    copy = rng.random(rows) < 0.3
    exact[copy] = exact[rng.integers(0, rows, copy.sum())]
    schema = pa.schema([("pos", pa.int64()), ("id", pa.string()), ("verified", pa.float64()),
                        ("length", pa.int64()), ("exact", pa.uint64()), ("traj", pa.uint64()),
                        ("answer_hash", pa.uint64()), ("answer", pa.string())])
    with pq.ParquetWriter(stages / "sign" / "meta" / "00000.parquet", schema) as writer:
        for lo in range(0, rows, 65536):
            hi = min(rows, lo + 65536)
            zeros = np.zeros(hi - lo, np.uint64)
            writer.write_table(pa.table({
                "pos": np.arange(lo, hi), "id": [f"r{i}" for i in range(lo, hi)], "verified": np.zeros(hi - lo),
                "length": rng.integers(20, 200, hi - lo), "exact": exact[lo:hi], "traj": zeros,
                "answer_hash": zeros, "answer": [""] * (hi - lo)}, schema=schema))
    docs = np.flatnonzero(rng.random(rows) < 0.95)
    roots = docs[(np.arange(len(docs)) // 20) * 20]  # clusters of 20 consecutive clustered rows
    np.stack([docs, roots], axis=1).astype("<u4").tofile(stages / "minhash_cluster" / "000000.clusters")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="150000,1000000")
    args = parser.parse_args()
    found = {}
    print("| rows | decide peak RSS | seconds |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (int(n) for n in args.sizes.split(",")):
            stages = Path(tmp) / f"n{rows}"
            write_stage_files(stages, rows)
            done = subprocess.run([sys.executable, "-c", CHILD.format(repo=str(REPO)), str(stages), str(rows)],
                                  capture_output=True, text=True, check=True)
            found[rows] = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"| {rows:,} | {found[rows]['rss_mb']:.0f} MB | {found[rows]['seconds']:.1f} |", flush=True)
    low, high = found[min(found)]["rss_mb"], found[max(found)]["rss_mb"]
    print(f"peak at {max(found):,} / at {min(found):,} rows: {high / low:.3f}; "
          f"growth {(high - low) * 2**20 / (max(found) - min(found)):.0f} B per extra row")


if __name__ == "__main__":
    main()
