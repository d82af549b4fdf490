"""Run a teacher command through the fault proxy and account for every record against a clean run.

Each record of the clean run must come out of the faulty run either identical (its faults were retried
away) or as a reject whose reason names the teacher failure; anything else (a record lost, changed, or
rejected for another reason) is listed in `unexpected`. The proxy's counters say what was injected.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability import procs
from tests.reliability.fault_proxy import REASONS, FaultPlan, FaultProxy
from tests.reliability.scenarios import Scenario

TEACHER_FAILURES = frozenset(REASONS.values())


@dataclass
class FaultRun:
    command: str
    plan: str
    rc: int
    seconds: float
    injected: Counter
    requests: int           # requests that reached the proxy
    forwarded: int          # requests the proxy passed on to the upstream server
    records: int            # records (kept + rejected) of the clean run
    identical: int          # ... that came out exactly as in the clean run
    rejected: Counter       # ... that came out as teacher-failure rejects, by reason
    degraded: Counter = field(default_factory=Counter)  # ... kept, changed, the teacher failure recorded in it
    unexpected: list[str] = field(default_factory=list)
    proxy: FaultProxy | None = None

    @property
    def ok(self) -> bool:
        accounted = self.identical + sum(self.rejected.values()) + sum(self.degraded.values())
        return self.rc == 0 and not self.unexpected and accounted == self.records

    def row(self) -> dict:
        return {"command": self.command, "plan": self.plan, "rc": self.rc, "seconds": self.seconds,
                "injected": dict(self.injected), "requests": self.requests, "forwarded": self.forwarded,
                "records": self.records, "identical": self.identical, "rejected": dict(self.rejected),
                "degraded": dict(self.degraded),
                "unexpected": self.unexpected[:5], "ok": self.ok}


def by_id(snapshot: dict, key: Callable[[str], str] = str) -> dict[str, tuple[str, dict]]:
    rows = {}
    for part in ("data", "rejects"):
        for rid, text in snapshot.get(part, []):
            rows[key(rid)] = (part, json.loads(text))
    return rows


def _recorded_failure(row: dict) -> str | None:
    """The teacher-failure reason a kept record carries (e.g. a fallback logged in its operators), if any."""
    text = json.dumps(row)
    return next((reason for reason in sorted(TEACHER_FAILURES) if reason in text), None)


def run_with_faults(name: str, argv: Callable[[Path, str], list[str]], upstream: str, plan: FaultPlan,
                    base: Path, clean: Path | None = None, env: dict | None = None,
                    key: Callable[[str], str] = str) -> FaultRun:
    """`argv(out, url)` -> CLI args; the clean run (made once per `clean` folder) talks to `upstream` directly.
    `key(id)` matches a record with its reject (a generator's reject carries the item, not the task id)."""
    base.mkdir(parents=True, exist_ok=True)
    clean = clean or base / "clean"
    if not (clean / "manifest.json").is_file():
        rc = procs.run(procs.cli(*argv(clean, upstream)), base / "clean.log", env=env)
        if rc != 0:
            raise RuntimeError(f"clean run of {name} failed: {(base / 'clean.log').read_text()[-2000:]}")
    out = base / f"faulty-{plan.seed}"
    with FaultProxy(upstream, plan) as proxy:
        started = time.monotonic()
        rc = procs.run(procs.cli(*argv(out, proxy.url)), base / f"faulty-{plan.seed}.log", env=env)
        seconds = round(time.monotonic() - started, 1)
    want, got = by_id(Scenario().snapshot(clean), key), by_id(Scenario().snapshot(out), key)
    run = FaultRun(name, _describe(plan), rc, seconds, proxy.injected, len(proxy.seen), proxy.forwarded,
                   len(want), 0, Counter(), proxy=proxy)
    for rid, (part, row) in want.items():
        if got.get(rid) == (part, row):
            run.identical += 1
        elif rid in got and got[rid][0] == "rejects" and got[rid][1].get("reason") in TEACHER_FAILURES:
            run.rejected[got[rid][1]["reason"]] += 1
        elif rid in got and got[rid][0] == part == "data" and _recorded_failure(got[rid][1]):
            run.degraded[_recorded_failure(got[rid][1])] += 1
        else:
            run.unexpected.append(f"{rid}: {part} -> {got.get(rid, ('missing', {}))[0]} "
                                  f"{got.get(rid, ('', {}))[1].get('reason', '')}".strip())
    run.unexpected += [f"{rid}: not in the clean run" for rid in set(got) - set(want)]
    return run


def _describe(plan: FaultPlan) -> str:
    parts = [f"seed {plan.seed}"]
    if plan.rate:
        parts.append(f"{plan.rate:.0%} payloads: 1-{plan.max_faults} recoverable faults")
    if plan.fatal_rate:
        parts.append(f"{plan.fatal_rate:.0%}: {plan.fatal_attempts} in a row")
    if plan.truncate_rate:
        parts.append(f"{plan.truncate_rate:.0%}: output cut short")
    if plan.burst:
        parts.append(f"503 bursts of {plan.burst[1]} every {plan.burst[0]} requests")
    return ", ".join(parts)
