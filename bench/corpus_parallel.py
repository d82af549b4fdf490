"""Parallel ingest of a multistream MediaWiki dump: peak memory per parse worker at growing dump sizes,
and the same corpus from every executor.

    python bench/corpus_parallel.py --sizes 20000 200000 --workers 2 [--ray] [--keep /tmp/dumps]

For each size: writes a multistream dump + index (bench/corpus_stream.py's generator: links, redirects,
templates, categories) under a temporary folder (or --keep, reused when present), runs
`corpus build DUMP --no-bm25 --no-dense --workers N` in a fresh process (the local executor; with --ray
also `--executor ray` on a local Ray cluster) and prints, per run: each parse task's peak RSS (its own
process), the build process's own peak RSS (the merge: pass 1-3), wall time, and the corpus version
(equal versions = the same documents and links). The ratio printed is the largest worker peak at this
size over the one at the smallest size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

BUILD = """
import json, resource, sys
from synth.engine import Runtime
from synth.env.build import BuildConfig, build_corpus
out = build_corpus(sys.argv[1], sys.argv[2], BuildConfig(bm25=False, dense=False, show_progress=False,
                   runtime=Runtime(executor=sys.argv[3], workers=int(sys.argv[4]))))
print(json.dumps({"version": out["version"], "documents": out["documents"], "links": out["links"],
                  "main_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "main_cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1)}))
"""


def build(dump: Path, out: Path, executor: str, workers: int) -> dict:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", BUILD, str(dump), str(out), executor, str(workers)],
                         capture_output=True, text=True, cwd=REPO)
    if run.returncode:
        sys.exit(f"build failed: {run.stderr[-2000:]}")
    row = json.loads(run.stdout.strip().splitlines()[-1])
    tasks = json.loads((out / ".synth" / "stages" / "parse.json").read_text())["tasks"]
    return {"executor": executor, "workers": workers, **row, "wall_s": round(time.perf_counter() - started, 1),
            "tasks": len(tasks), "worker_peak_rss_mb": [t["peak_rss_mb"] for t in tasks],
            "pages_per_s_per_worker": round(sum(t["documents"] for t in tasks) / sum(t["seconds"] for t in tasks)),
            "parse_cpu_s": round(sum(t.get("cpu_seconds", 0) for t in tasks), 1)}


def dump_for(folder: Path, size: int) -> Path:
    from corpus_stream import write_multistream

    dump = folder / f"wiki{size}-multistream.xml.bz2"
    if not dump.exists() or not (folder / f"wiki{size}-multistream-index.txt.bz2").exists():
        tmp = folder / f"tmp{size}-multistream.xml.bz2"
        index = write_multistream(tmp, size)
        index.replace(folder / f"wiki{size}-multistream-index.txt.bz2")
        tmp.replace(dump)
    return dump


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ray", action="store_true", help="also build with --executor ray and compare")
    parser.add_argument("--keep", type=Path, help="keep the generated dumps in this folder (reused)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        first = None
        for size in args.sizes:
            dump = dump_for(folder, size)
            row = {"pages": size, "bz2_mb": round(dump.stat().st_size / 2**20, 1)}
            for executor in ("local", "ray") if args.ray else ("local",):
                row[executor] = build(dump, Path(tmp) / f"corpus-{size}-{executor}", executor, args.workers)
            peak = max(row["local"]["worker_peak_rss_mb"])
            first = first or peak
            row["worker_peak_ratio_to_smallest"] = round(peak / first, 3)
            if args.ray:
                row["same_corpus_local_ray"] = row["local"]["version"] == row["ray"]["version"]
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
