"""The harness protocol, checked in the parent: every result line must fit its event's schema.

The sandboxed program shares a process with the harness, so it can learn the run's nonce and write
lines that look like the harness's own. A line it forges can only ever hurt *its own* run: any event
that is malformed, out of range, duplicated, out of order, or an `infra` line after user code started
(`armed`) makes the run a `protocol_error`, which callers score as failed. An unparseable line that
carries the nonce is malformed too. Nothing here raises on hostile input.
"""

from __future__ import annotations

import json
import math
from typing import Any

CALL_STATES = {"ok", "error", "timeout", "memory", "output_limit", "violation"}
_MEASURE_STATES = CALL_STATES | {"generator_" + s for s in CALL_STATES}


def _int(value: Any, lo: int = 0, hi: int | None = None) -> bool:
    return type(value) is int and value >= lo and (hi is None or value < hi)


def _seconds(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and value >= 0


def _text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _shape(job: dict) -> tuple[int, int]:
    """(programs, calls per program) a run of this job may report."""
    mode = job.get("mode")
    programs = len(job.get("programs") or [])
    calls = {"function": len(job.get("tests") or []), "stdio_batch": len(job.get("stdins") or []),
             "stdio": 1, "generate": len(job.get("draws") or [])}.get(mode, 0)
    return programs, calls


def event_error(event: dict, job: dict) -> str | None:
    """Why `event` cannot have come from the harness running `job`, or None."""
    kind = event.get("event")
    programs, calls = _shape(job)
    if kind == "test":
        ok = (_int(event.get("program"), 0, programs) and _int(event.get("test"), 0, calls)
              and event.get("status") in CALL_STATES and _seconds(event.get("cpu")) and _text(event.get("error")))
    elif kind == "program":
        ok = _int(event.get("program"), 0, programs) and event.get("status") in CALL_STATES | {"finished"}
    elif kind == "draw":
        ok = _int(event.get("index"), 0, calls) and event.get("status") in CALL_STATES
    elif kind == "measure":
        ok = _int(event.get("n")) and event.get("status") in _MEASURE_STATES and (
            event.get("status") != "ok" or (_seconds(event.get("seconds")) and _seconds(event.get("spent"))
                                             and _int(event.get("repeats"), 1)))
    elif kind == "output":
        ok = (_int(event.get("n")) and _int(event.get("k")) and event.get("status") in CALL_STATES
              and _seconds(event.get("seconds")))
    elif kind == "violation":
        ok = isinstance(event.get("kind"), str) and _text(event.get("detail"))
    elif kind in ("ready", "armed", "done", "infra"):
        ok = True
    else:
        return f"unknown event {str(kind)[:40]!r}"
    return None if ok else f"malformed {kind} event"


def _order_error(events: list[dict]) -> str | None:
    """ready first and once; armed once; infra only before armed; done once and last; no call twice."""
    names = [e["event"] for e in events]
    if "ready" not in names:
        return None  # the sandbox never came up: runner.classify calls that infra_error
    if names.count("ready") != 1 or names[0] != "ready":
        return "ready must come first, once"
    if names.count("armed") > 1 or names.count("done") > 1 or ("done" in names and names[-1] != "done"):
        return "armed/done repeated or out of order"
    if "infra" in names and "armed" in names and names.index("infra") > names.index("armed"):
        return "infra event after user code started"
    seen: set = set()
    for e in events:
        key = {"test": ("test", e.get("program"), e.get("test")), "draw": ("draw", e.get("index")),
               "output": ("output", e.get("n"), e.get("k")), "measure": ("measure", e.get("n"))}.get(e["event"])
        if key is not None:
            if key in seen:
                return f"duplicate {e['event']} event"
            seen.add(key)
    return None


def parse_events(raw: bytes, nonce: str, job: dict) -> tuple[list[dict], str | None]:
    """(events carrying the nonce, in order, nonce removed; the first protocol problem or None).
    Lines without the nonce are stray writes and are ignored (they cannot be the harness's)."""
    events, problem = [], None
    for line in raw.splitlines():
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            if nonce.encode() in line:
                problem = problem or "unparseable result line"
            continue
        if not isinstance(event, dict) or event.get("nonce") != nonce:
            continue
        event.pop("nonce")
        problem = problem or event_error(event, job)
        events.append(event)
    if events and problem is None:
        problem = _order_error(events)
    return events, problem
