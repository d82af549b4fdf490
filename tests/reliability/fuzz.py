"""Bad-input fuzzing of every reader (Hypothesis): each target feeds a drawn input to the real reader and
accepts exactly two endings, records or one clear error line (InputError / UserError naming the file).
Any other exception is a bug; `check` turns it into an AssertionError that carries it.

Inputs are valid files put through byte-level damage (cut short, bytes flipped, invalid UTF-8, NUL, a BOM,
nesting 5,000 deep, a 6,000-digit number, a 200 KB string, NaN, lone surrogates, duplicated lines) and
records with every field of the wrong type. `fuzz_targets.TARGETS` maps a name to (strategy, run(value, tmp)
-> ending); the tests run each a few dozen times, `python -m tests.reliability.campaign fuzz` hundreds.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth.errors import UserError

CASES: Counter = Counter()  # examples run per target (the campaign reports them)

NASTY = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf", b"[" * 5000, b'{"a":' * 3000, b"9" * 6000,
         b'"' + b"x" * 200_000 + b'"', b"NaN", b"Infinity", b"1e999", b"\n", b"\r\n", b'"\\ud800"', b"}", b"]",
         b'"', b",", b"\t", b"{}", b"null", b"[]", b'{"id": null}']
KEYS = ["id", "messages", "role", "content", "tool_calls", "function", "name", "arguments", "tools", "question",
        "answer", "aliases", "text", "title", "links", "target", "updated_at", "categories", "redirect", "traj",
        "message_history", "functions", "metadata", "loss", "weight", "prompt", "reference_solution",
        "entry_point", "tests", "style", "chosen", "rejected", "task_id", "tool_call_id"]

scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) |
                           st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), kids, max_size=5),
                           max_leaves=25)
records = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8)


@st.composite
def damaged(draw, base: bytes) -> bytes:
    """`base` with 1-3 kinds of damage at drawn places."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(0, len(data))))
        op = draw(st.sampled_from(["cut", "flip", "insert", "insert", "dup"]))
        if op == "cut":
            del data[at:]
        elif op == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(NASTY))
        elif op == "dup":
            lines = bytes(data).splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                data = bytearray(b"".join(lines[: i + 1] + [lines[i]] + lines[i + 1:]))
    return bytes(data)


def jsonl_of(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def check(run: Callable[[], Any], *paths: Path) -> str:
    """"ok", or "error" for a one-line UserError naming one of `paths`; anything else raises."""
    try:
        run()
        return "ok"
    except UserError as exc:
        line = str(exc)
        assert line and "\n" not in line, f"error message is not one line: {line!r}"
        assert any(p.name in line for p in paths), f"error does not name the file: {line!r}"
        return "error"
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__}: {str(exc)[:300]}") from exc


def run_target(name: str, examples: int, seed: int = 0) -> Counter:
    """Run one target `examples` times (reproducible: a fixed Hypothesis seed); Counter of ok / error / skip."""
    from tests.reliability.fuzz_targets import TARGETS

    strategy, target = TARGETS[name]
    endings: Counter = Counter()

    @hypothesis.seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              print_blob=False)
    @given(value=strategy)
    def fuzz(value):
        tmp = Path(tempfile.mkdtemp(prefix="synth-fuzz-case-"))
        try:
            endings[target(value, tmp)] += 1
            CASES[name] += 1
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    fuzz()
    return endings
