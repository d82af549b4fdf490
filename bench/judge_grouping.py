"""`synth judge pairwise` groups candidates by prompt before judging: an external group-by whose memory does not
grow with the input, against an in-memory dict group-by baseline (what a script would do) on the same files.

    python bench/judge_grouping.py                       # 50k and 200k candidates, 4 per prompt, shuffled
    python bench/judge_grouping.py --sizes 20000 80000

Each measurement runs in its own process (so each peak RSS is its own). Candidates are written shuffled, so
no prompt's candidates are adjacent (the worst case: two teachers' outputs concatenated, or any shuffled set).
Both produce the same groups file; the script checks that before printing.
"""

from __future__ import annotations

import argparse
import hashlib
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


def write_input(path: Path, n: int, per_prompt: int = 4) -> None:
    order = list(range(n))
    random.Random(0).shuffle(order)
    with open(path, "w", encoding="utf-8") as fh:
        for i in order:
            p, k = divmod(i, per_prompt)
            fh.write(json.dumps({"id": f"p{p}-{k}", "task_id": f"p{p}", "messages": [
                {"role": "user", "content": f"question {p}: " + "explain the thing in detail " * 4},
                {"role": "assistant", "content": f"answer {k} to {p}: " + "a fairly long response text " * 12}]}) + "\n")


def measure(src: str, how: str, n: int) -> dict:
    from synth.pipelines.judge import grouping

    out = Path(tempfile.mkdtemp(prefix=f"judge-{how}-"))
    start = time.perf_counter()
    if how == "external":
        groups = grouping.group_inputs([src], out, n)
    else:
        groups = baseline(src, out)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before hashing: the hash is not the work
    digest = hashlib.sha256()
    with open(out / "groups.jsonl", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest = digest.hexdigest()[:16]
    return {"how": how, "n": n, "groups": groups, "seconds": round(seconds, 2), "peak_rss_mib": round(peak), "sha": digest}


def baseline(src: str, out: Path) -> int:
    """Everything in one dict, then written in order of first appearance."""
    import orjson
    from synth.pipelines.judge.candidates import candidate_of
    from synth.pipelines.judge.grouping import group_record

    from synth.dataset import iter_rows

    groups: dict[str, list] = {}
    for row in iter_rows([src]):
        candidate = candidate_of(row.record)
        groups.setdefault(candidate.prompt_id, []).append(candidate.to_dict())
    with open(out / "groups.jsonl", "wb") as fh:
        fh.writelines(orjson.dumps(group_record(members)) + b"\n" for members in groups.values())
    return len(groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # internal: SRC HOW N in a fresh process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], args.one[1], int(args.one[2]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        print("| candidates | input | external time | external peak RSS | in-memory time | in-memory peak RSS | time ratio |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for n in args.sizes:
            src = Path(tmp) / f"in-{n}.jsonl"
            write_input(src, n)
            runs = {}
            for how in ("external", "memory"):
                done = subprocess.run([sys.executable, __file__, "--one", str(src), how, str(n)],
                                      capture_output=True, text=True, check=True)
                runs[how] = json.loads(done.stdout.strip().splitlines()[-1])
            assert runs["external"]["sha"] == runs["memory"]["sha"], "the two group-bys disagree"
            ext, mem = runs["external"], runs["memory"]
            print(f"| {n:,} | {src.stat().st_size / 2**20:.0f} MB | {ext['seconds']} s | {ext['peak_rss_mib']} MiB | "
                  f"{mem['seconds']} s | {mem['peak_rss_mib']} MiB | {ext['seconds'] / mem['seconds']:.2f}x |")


if __name__ == "__main__":
    main()
