"""Run programs on a problem's tests in the sandbox, for either style, and judge each test.

Function style: one sandbox run executes every test (or every mutant x test) in one process.
Stdio style: one run per test (the program owns the process' stdin/stdout), in parallel batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synth.pipelines.code.compare import expected_matches

from synth.sandbox import OK, RUNTIME_ERROR, WRONG_ANSWER, Limits, Sandbox
from synth.sandbox.limits import CALL_STATUS, INFRA_ERROR, PROTOCOL_ERROR


class SandboxFailure(RuntimeError):
    """The sandbox itself failed (it did not come up): nothing a program under test can cause."""


@dataclass
class Outcome:
    """Per-test verdicts of one program. `values` are the harness-encoded results (function style) or
    stdout texts (stdio style); `status` is the run-level status (infra_error means: do not trust)."""

    verdicts: list[str] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    status: str = OK
    detail: str = ""
    finished: bool = True  # False: the run died before this program was done (its verdicts are partial)
    violations: list[str] = field(default_factory=list)  # policy hits (audit hook), by kind, in order

    @property
    def passed(self) -> int:
        return sum(v == OK for v in self.verdicts)

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.verdicts) if self.verdicts else 0.0


def violation_kinds(res) -> list[str]:
    return [str(v.get("kind")) for v in res.violations]


def _collect(res, program: int, count: int) -> tuple[list[str], list[Any], list[float]]:
    """Per-call statuses, values and CPU of one program. A run with a forged or malformed result line
    (protocol_error) fails every call: none of its lines can be trusted."""
    statuses: list[str] = [RUNTIME_ERROR] * count
    values: list[Any] = [None] * count
    cpu = [0.0] * count
    if res.status == PROTOCOL_ERROR:
        return [PROTOCOL_ERROR] * count, values, cpu
    for e in res.events:
        if e.get("event") == "test" and e.get("program") == program and 0 <= e.get("test", -1) < count:
            statuses[e["test"]] = CALL_STATUS.get(e.get("status"), RUNTIME_ERROR)
            values[e["test"]], cpu[e["test"]] = e.get("value"), float(e.get("cpu") or 0.0)
    return statuses, values, cpu


def run_function_tests(box: Sandbox, sources: list[str], entry_point: str, inputs: list[list],
                       limits: Limits | None = None, stop_on_fail: bool = False) -> list[Outcome]:
    """Each source on every input; verdicts are call statuses (no expected outputs involved yet)."""
    res = box.run_function(sources, entry_point, inputs, stop_on_fail=stop_on_fail, limits=limits)
    outcomes = []
    for index in range(len(sources)):
        statuses, values, cpu = _collect(res, index, len(inputs))
        loaded = next((e for e in res.of("program") if e.get("program") == index and e.get("status") != "finished"), None)
        if loaded is not None and res.status != PROTOCOL_ERROR:  # the program did not even load (syntax error, missing entry point ...)
            statuses = [CALL_STATUS.get(loaded.get("status"), RUNTIME_ERROR)] * len(inputs)
        finished = any(e.get("program") == index for e in res.of("program"))
        out = Outcome(statuses, values, cpu, OK if res.status != INFRA_ERROR else INFRA_ERROR, res.detail, finished,
                      violation_kinds(res))
        outcomes.append(out)
    return outcomes


def _stdio_each(box: Sandbox, source: str, stdins: list[str], limits: Limits | None) -> list:
    return box.map(lambda text: box.run_stdio(source, text, limits=limits), stdins)


def run_stdio_tests(box: Sandbox, source: str, stdins: list[str], limits: Limits | None = None,
                    expected: list[str] | None = None, first_failure: bool = False) -> Outcome:
    """All tests in one emulated-stdin run first; tests that fail there (or do not match `expected`)
    are re-run one process each with a real stdin, whose verdict is final. So emulation only ever
    saves time, never changes a verdict. `first_failure`: stop re-running at the first confirmed
    failure (enough to kill a mutant)."""
    batch = box.run_stdio_batch(source, stdins, limits=limits)
    statuses, values, cpu = _collect(batch, 0, len(stdins))
    out = Outcome(statuses, values, cpu, violations=violation_kinds(batch))
    redo = [i for i, st in enumerate(statuses) if st != OK
            or (expected is not None and not expected_matches("stdio", values[i], expected[i]))]
    if first_failure:
        redo = redo[:1]
    for i, res in zip(redo, _stdio_each(box, source, [stdins[i] for i in redo], limits)):
        out.verdicts[i] = res.status
        out.values[i] = res.stdout.decode(errors="replace")
        out.cpu[i] = res.cpu_s
        out.violations += violation_kinds(res)
        if res.status == INFRA_ERROR:
            out.status, out.detail = INFRA_ERROR, res.detail
    return out


def judge(style: str, outcome: Outcome, expected: list[str]) -> Outcome:
    """Turn call statuses into test verdicts against expected outputs (ok -> ok or wrong_answer)."""
    verdicts = []
    for status, value, want in zip(outcome.verdicts, outcome.values, expected):
        if status != OK:
            verdicts.append(status)
        else:
            verdicts.append(OK if expected_matches(style, value, want) else WRONG_ANSWER)
    return Outcome(verdicts, outcome.values, outcome.cpu, outcome.status, outcome.detail, outcome.finished,
                   outcome.violations)


def run_tests(box: Sandbox, style: str, source: str, entry_point: str | None, tests: list[dict],
              limits: Limits | None = None) -> Outcome:
    """Run one program on a record's tests ({input, expected} JSON/text) and judge it."""
    import json

    if style == "stdio":
        raw = run_stdio_tests(box, source, [t["input"] for t in tests], limits, [t["expected"] for t in tests])
    else:
        raw = run_function_tests(box, [source], entry_point or "", [json.loads(t["input"]) for t in tests],
                                 limits)[0]
    return judge(style, raw, [t["expected"] for t in tests])
