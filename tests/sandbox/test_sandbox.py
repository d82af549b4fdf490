"""Everyday sandbox behaviour: results, statuses per call, stdio, batches, infrastructure failures."""

from __future__ import annotations

import pytest

from synth.sandbox import INFRA_ERROR, OK, RUNTIME_ERROR, TIMEOUT, Limits, Sandbox
from synth.sandbox.backend import LEVELS, detect


@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox(Limits(cpu_s=5, wall_s=10, test_cpu_s=0.5))


def test_function_calls_and_encoding(box):
    src = "def f(x):\n    print('noise')\n    return {'a': {x, x + 1}, 'b': (x, 1.5), 'c': None}\n"
    res = box.run_function([src], "f", [[1], [2]])
    assert res.status == OK
    values = [e["value"] for e in res.of("test")]
    assert values[0] == {"__dict__": [["a", {"__set__": [1, 2]}], ["b", [1, 1.5]], ["c", None]]}
    assert len(values) == 2


def test_each_call_has_its_own_status(box):
    src = ("def f(x):\n    if x == 1:\n        raise ValueError('bad')\n    if x == 2:\n        while True:\n"
           "            pass\n    return x\n")
    res = box.run_function([src], "f", [[0], [1], [2], [3]])
    assert [e["status"] for e in res.of("test")] == ["ok", "error", "timeout", "ok"]
    assert res.status == RUNTIME_ERROR  # a run's verdict is its first failing call


def test_stdio_program(box):
    res = box.run_stdio("n = int(input())\nprint(sum(range(n)))\n", "10\n")
    assert res.status == OK and res.stdout == b"45\n"
    batch = box.run_stdio_batch("print(input()[::-1])\n", ["abc\n", "xy\n"])
    assert [e["value"] for e in batch.of("test")] == ["cba\n", "yx\n"]


def test_exit_codes(box):
    assert box.run_source("import sys\nsys.exit(0)\n").status == OK
    assert box.run_source("import sys\nsys.exit(3)\n").status == RUNTIME_ERROR
    assert box.run_source("raise KeyError('x')\n").status == RUNTIME_ERROR


def test_parallel_batches_keep_order(box):
    sources = [f"print({i} * {i})\n" for i in range(6)]
    results = box.map(box.run_source, sources)
    assert [r.stdout for r in results] == [f"{i * i}\n".encode() for i in range(6)]


def test_infrastructure_failure_is_not_the_programs_fault(box):
    # No wall time at all: the sandbox cannot even come up. That is infra_error, never a timeout.
    res = box.run_source("print(1)\n", limits=box.limits.with_(wall_s=0.0))
    assert res.status == INFRA_ERROR


def test_same_program_same_outputs(box):
    src = "def f(words):\n    return sorted(set(words))[:3], hash('abc') % 7\n"
    a = box.run_function([src], "f", [[["b", "a", "c", "d"]]])
    b = box.run_function([src], "f", [[["b", "a", "c", "d"]]])
    assert a.of("test")[0]["value"] == b.of("test")[0]["value"]  # PYTHONHASHSEED pinned


def test_backend_detection_and_minimum_isolation():
    best = detect()
    assert best.name in LEVELS
    with pytest.raises(RuntimeError):
        Sandbox(backend="rlimits", min_isolation="bwrap")
    weak = Sandbox(Limits(cpu_s=2, wall_s=5), backend="rlimits", min_isolation="rlimits")
    assert weak.run_source("print(2 + 2)\n").stdout == b"4\n"


def test_timeout_status_for_cpu_limit_of_the_whole_run():
    box = Sandbox(Limits(cpu_s=1, wall_s=8, test_cpu_s=5))
    res = box.run_source("while True:\n    pass\n")
    assert res.status == TIMEOUT
