"""Peak memory of `synth corpus build` against the largest document and the input size (issue 28, point 7).

    python bench/corpus_doc_memory.py --sizes 0,1000000,5000000,19000000 --small-docs 10000,100000 --no-dense

Each build is the real CLI in its own process (peak resident memory from wait4, that process alone):
1. the 17 test documents plus one document of N bytes of text (N=0 is the baseline of the same run); the
   figure is the multiple k = (peak - baseline peak) / N;
2. synthetic corpora of D small documents (~600 bytes, linked by title), D and 10x D: what memory grows
   per document with the input (title maps, ids, the BM25 index), the stated exception to "bounded by
   the largest document".
Flags after the options go to `corpus build` (e.g. --no-dense, --no-bm25).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
WORDS = ("lorem ipsum dolor sit amet Pascal Wirth compiler parser kernel cache thread socket "
         "packet router stack queue heap graph tree index").split()


def build(src: Path, out: Path, flags: list[str]) -> tuple[int, float, float]:
    """(exit code, peak MiB, seconds) of one `corpus build` process."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "synth.cli", "corpus", "build", str(src), "--out", str(out),
                             "--json", *flags], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024, time.perf_counter() - started


def one_large(folder: Path, size: int) -> Path:
    from tests.env.helpers import write_jsonl

    src = write_jsonl(folder / f"docs_{size}.jsonl")
    if size:
        words = ("lorem ipsum dolor sit amet Pascal Wirth " * (size // 40 + 1))[:size]
        with open(src, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"id": "big", "title": "Big", "text": words}) + "\n")
    return src


def small_docs(folder: Path, count: int) -> Path:
    rng = random.Random(count)
    src = folder / f"small_{count}.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        for i in range(count):
            text = " ".join(rng.choice(WORDS) for _ in range(80)) + f" see Doc {rng.randrange(count)}."
            fh.write(json.dumps({"id": f"d{i}", "title": f"Doc {i}", "text": text,
                                 "links": [f"Doc {rng.randrange(count)}"]}) + "\n")
    return src


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0,1000000,5000000,19000000")
    parser.add_argument("--small-docs", default="10000,100000")
    args, flags = parser.parse_known_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder, base = Path(tmp), None
        for size in (int(float(s)) for s in args.sizes.split(",") if s):
            code, peak, seconds = build(one_large(folder, size), folder / f"c{size}", flags)
            base = peak if base is None else base
            k = f", k = {(peak - base) * 2**20 / size:.1f}" if size else " (baseline)"
            print(f"largest document {size / 1e6:5.1f} MB: exit {code}, peak {peak:.0f} MiB "
                  f"(+{peak - base:.0f} MiB){k}, {seconds:.1f} s", flush=True)
            failed += code != 0
        first = None
        for count in (int(float(s)) for s in args.small_docs.split(",") if s):
            src = small_docs(folder, count)
            code, peak, seconds = build(src, folder / f"s{count}", flags)
            growth = "" if first is None else (f", +{(peak - first[1]) * 2**20 / (count - first[0]):.0f} bytes "
                                               "per added document")
            first = first or (count, peak)
            print(f"{count} small documents ({src.stat().st_size / 1e6:.0f} MB): exit {code}, peak {peak:.0f} MiB, "
                  f"{seconds:.1f} s{growth}", flush=True)
            failed += code != 0
    print(f"flags: {' '.join(flags) or '-'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
