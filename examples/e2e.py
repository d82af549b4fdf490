"""Helpers of examples/end_to_end.sh: the three steps that are not synth commands.

    python examples/e2e.py split TASKS --heldout N --out-dir DIR   # train.jsonl / heldout.jsonl, split by answer
    python examples/e2e.py table WORKDIR --seconds S               # the one summary table

They are plain scripts on purpose: a real project has its own held-out split, and the table is just a read of
manifest.json files. (The tiny model's tokenizer is built by `synth train --from-config` itself:
trainers/tokenizer.py.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path


# -- split --------------------------------------------------------------------------------------------
def split(tasks: str, heldout: int, out_dir: str) -> None:
    """Hold out every task of `heldout` answer entities, chosen by a hash of the answer's document id.

    Splitting by answer (not by task) matters: two tasks with the same answer are two routes to the same
    document, and training on one would leak the other's answer into the eval."""
    from synth.dataset import read_records

    records = list(read_records([tasks]))
    answers = sorted({r["answer_doc_id"] for r in records}, key=lambda a: hashlib.sha256(a.encode()).hexdigest())
    chosen, held = set(), []
    for answer in answers:
        if len(held) >= heldout:
            break
        chosen.add(answer)
        held = [r for r in records if r["answer_doc_id"] in chosen]
    train = [r for r in records if r["answer_doc_id"] not in chosen]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("heldout", held)):
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in part)
    print(f"split: {len(train)} training tasks, {len(held)} held-out tasks ({len(chosen)} answers held out)")


# -- table ---------------------------------------------------------------------------------------------
STAGES = [("corpus build", "corpus"), ("generate deepsearch", "tasks"), ("held-out split", "heldout"),
          ("training split", "train"), ("generate trajectories", "trajectories"), ("label turns", "labels"),
          ("filter", "filtered"), ("export sft", "sft"), ("train (tiny, CPU)", "model"), ("eval deepsearch", "eval"),
          ("generate --from-failures", "next_tasks")]


def _manifest(path: Path) -> dict:
    file = path / "manifest.json"
    return json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {}


def _note(folder: str, m: dict) -> str:
    stats = m.get("stats") or {}
    if folder == "model":
        final = stats.get("final") or {}
        return f"{stats.get('parameters')} params, {stats.get('steps')} steps, final loss {final.get('loss', 0):.2f}"
    if folder == "eval":
        return f"accuracy {stats.get('accuracy')} on {stats.get('items')} held-out tasks"
    if folder == "next_tasks":
        mined = stats.get("from_failures") or {}
        return f"seeded from {mined.get('entities')} entities of {mined.get('failed_items')} failed tasks"
    if folder == "filtered":
        return ", ".join(f"{k}={v}" for k, v in ((m.get("counts") or {}).get("rejected_by_reason") or {}).items())
    return ""


def table(work: str, seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table

    work_dir, console = Path(work), Console(width=130)
    runs = Table(title="synth end to end (every dataset below passed `synth validate`)")
    for col in ("step", "output", "records", "rejected", "seconds", "note"):
        runs.add_column(col, justify="right" if col in ("records", "rejected", "seconds") else "left")
    for step, folder in STAGES:
        m = _manifest(work_dir / folder)
        counts = m.get("counts") or {}
        runs.add_row(step, folder + "/", str(counts.get("output", "-")), str(counts.get("rejected", "-")),
                     f"{(m.get('timings') or {}).get('seconds', 0):.1f}", _note(folder, m))
    console.print(runs)
    stats = _manifest(work_dir / "eval").get("stats") or {}
    result = Table(title="held-out eval of the trained model (tasks whose answers were never trained on)")
    for col in ("slice", "tasks", "accuracy", "mean tool calls", "mean turns"):
        result.add_column(col, justify="left" if col == "slice" else "right")
    result.add_row("all", *(str(stats.get(k)) for k in ("items", "accuracy", "mean_tool_calls", "mean_turns")))
    for group in ("by_tier", "by_hops", "by_topology"):
        for key, v in (stats.get(group) or {}).items():
            result.add_row(f"{group.removeprefix('by_')}={key}", str(v["items"]), str(v["accuracy"]),
                           str(v["mean_tool_calls"]), str(v["mean_turns"]))
    console.print(result)
    console.print(f"rollout stops: {stats.get('stops')}   task failures: {stats.get('failures')}")
    console.print("[bold]Read this honestly:[/bold] the model is a 2-layer, 128-wide random init trained for a few "
                  "CPU minutes, so accuracy near 0 is the expected result. This run shows that every step works "
                  "and every dataset validates, not that the data helps: for that, train a real model "
                  "(`synth train --model PATH`, on a GPU) and compare its eval with the base model's.")
    console.print(f"total wall time: {seconds:.0f} s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("split")
    p.add_argument("tasks")
    p.add_argument("--heldout", type=int, required=True)
    p.add_argument("--out-dir", required=True)
    p = sub.add_parser("table")
    p.add_argument("work")
    p.add_argument("--seconds", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.cmd == "split":
        split(args.tasks, args.heldout, args.out_dir)
    else:
        table(args.work, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
