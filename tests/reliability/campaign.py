"""The full reliability campaigns, with the figures docs/reliability.md reports.

    python -m tests.reliability.campaign crash  [--trials 20] [--commands "label turns,train"] [--json F]
    python -m tests.reliability.campaign faults [--json F]
    python -m tests.reliability.campaign fuzz   [--examples 500] [--json F]

Each prints one markdown table (a row per command / fault plan / fuzz target) and, with --json, writes every
trial's row to F (JSON lines). Everything is seeded: the same command gives the same kill points, fault
scripts and fuzz inputs (timings aside). Work folders go to --work (default: a temporary folder, removed).
The pytest files run small slices of the same code (tests/reliability/test_*.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.reliability.scenarios import SCENARIOS


def crash(args, work: Path) -> list[dict]:
    from tests.reliability.crash import Campaign
    from tests.teachers.fake_openai import FakeOpenAI

    rows, table = [], [("| command | trials | kills landed | trials ok | records lost | duplicated | changed | "
                        "processes left | teacher requests answered before a kill | re-sent (hold kills) | "
                        "re-sent (random kills, in flight) | minutes |"), "|" + "---|" * 12]
    with FakeOpenAI() as server:
        for name in _names(args.commands, SCENARIOS):
            started = time.monotonic()
            campaign = Campaign(SCENARIOS[name](), work / name.replace(" ", "-"), server, seed=args.seed)
            campaign.reference()
            trials = []
            for i in range(args.trials):
                t = campaign.trial(i)
                trials.append(t)
                rows.append(t.row())
                print(json.dumps(t.row()), file=sys.stderr, flush=True)
            hold = [t for t in trials if t.mode == "hold"]
            rand = [t for t in trials if t.mode != "hold" and t.resent is not None]
            teacher = campaign.s.teacher
            table.append("| " + " | ".join(str(v) for v in (
                name, len(trials), sum(t.kills for t in trials), sum(t.ok for t in trials),
                sum(t.lost for t in trials), sum(t.duplicated for t in trials), sum(t.changed for t in trials),
                sum(t.survivors for t in trials),
                sum(t.answered_before_kill or 0 for t in trials) if teacher else "n/a (no teacher)",
                f"{sum(t.resent for t in hold)} of {sum(t.answered_before_kill for t in hold)}" if teacher else "n/a",
                f"{sum(t.resent for t in rand)} of {sum(t.answered_before_kill for t in rand)}" if teacher else "n/a",
                round((time.monotonic() - started) / 60, 1))) + " |")
    print("\n".join(table))
    return rows


def faults(args, work: Path) -> list[dict]:
    from tests.core.helpers import write_jsonl
    from tests.reliability.fault_proxy import FaultPlan
    from tests.reliability.faults import run_with_faults
    from tests.reliability.scenarios import Switchboard
    from tests.reliability.test_faults import CLIENT, MIXED, RETRIES, responses_argv, seeded_echo
    from tests.teachers.fake_openai import FakeOpenAI

    plans = [FaultPlan(seed=args.seed + 3, rate=0.4, max_faults=RETRIES, hang_s=5.0), MIXED,
             FaultPlan(seed=args.seed + 2, rate=0.0, burst=(7, 3))]
    rows, table = [], [("| command | fault plan | faults injected (by kind) | records | identical to clean run | "
                        "rejected (reason) | unexpected | exit | ok |"), "|" + "---|" * 9]
    src = write_jsonl(work / "prompts.jsonl", [{"id": f"p{i}", "messages": [{"role": "user", "content": f"prompt {i}"}]}
                                               for i in range(40)])
    commands = [("generate responses", responses_argv(src), seeded_echo, str)]
    for name in ("label turns", "generate deepsearch"):
        s = SCENARIOS[name]()
        s.prepare(work)
        commands.append((name, lambda out, url, s=s: [*s.argv(out, url), *CLIENT], s.handler(), s.key))
    for name, argv, handler, key in commands:
        if args.commands and name not in args.commands.split(","):
            continue
        with FakeOpenAI(Switchboard(handler)) as fake:
            for plan in plans:
                extra = ["--retries", "4"] if plan.burst else []
                run = run_with_faults(name, lambda out, url, argv=argv, extra=extra: [*argv(out, url), *extra], fake.url, plan,
                                      work / name.replace(" ", "-"), key=key)
                rows.append(run.row())
                table.append("| " + " | ".join(str(v) for v in (
                    name, run.plan, _counts(run.injected), run.records, run.identical, _counts(run.rejected) or "0",
                    len(run.unexpected), run.rc, "yes" if run.ok else "NO")) + " |")
    print("\n".join(table))
    return rows


def fuzz(args, work: Path) -> list[dict]:
    from tests.reliability.fuzz import run_target
    from tests.reliability.fuzz_targets import TARGETS

    rows, table = [], ["| reader | inputs run | read | clear error (one line, file named) | not representable / failure |",
                       "|---|---|---|---|---|"]
    for name in _names(args.commands, TARGETS):
        try:
            endings = run_target(name, args.examples, seed=args.seed)
        except AssertionError as exc:  # a bug found: Hypothesis shrank it; report it and go on
            failure = str(exc).splitlines()[0][:200]
            rows.append({"target": name, "failure": str(exc)[:2000]})
            table.append(f"| {name} | FAILED | | | {failure} |")
            continue
        rows.append({"target": name, **endings})
        table.append(f"| {name} | {sum(endings.values())} | {endings['ok']} | {endings['error']} | "
                     f"{endings['skip'] or ''} |")
    print("\n".join(table))
    return rows


def _names(wanted: str | None, known) -> list[str]:
    names = [n.strip() for n in wanted.split(",")] if wanted else list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown: {unknown}; known: {list(known)}")
    return names


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.campaign")
    parser.add_argument("campaign", choices=["crash", "faults", "fuzz"])
    parser.add_argument("--trials", type=int, default=20, help="crash: trials per command")
    parser.add_argument("--examples", type=int, default=500, help="fuzz: inputs per target")
    parser.add_argument("--commands", help="comma list of commands (crash, faults) or targets (fuzz)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write every trial's row here (JSON lines)")
    parser.add_argument("--work", type=Path, help="keep work folders here (default: a temporary folder)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix=f"synth-{args.campaign}-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        rows = {"crash": crash, "faults": faults, "fuzz": fuzz}[args.campaign](args, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
