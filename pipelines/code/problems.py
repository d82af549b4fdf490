"""Seed problems: read `--seeds` JSONL, check every field, and normalise into `Seed`.

Function style: {"prompt", "entry_point", "reference_solution", "generator"?, "validator"?, "complexity"?,
"tests"?, "hypothesis"?, "id"?}. Stdio style: {"style": "stdio", "prompt", "reference_solution" (a whole
program reading stdin), "generator"? (returns the stdin text), "tests"? (stdin strings), "id"?}.
A bad seed is a user error naming the file, line and field (exit code 2), never a silent skip.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.pipelines.code.complexity import normalize_class

from synth.dataset import iter_jsonl
from synth.errors import InputError

STYLES = ("function", "stdio")
KNOWN = {"id", "style", "prompt", "entry_point", "reference_solution", "generator", "validator", "complexity",
         "tests", "hypothesis", "test_max_n", "source", "difficulty", "tags"}


@dataclass(frozen=True)
class Seed:
    id: str
    style: str
    prompt: str
    reference_solution: str
    entry_point: str | None = None
    generator: str | None = None
    validator: str | None = None
    declared_class: str | None = None  # the seed author's claim; the measured class is what counts
    tests: list[Any] = field(default_factory=list)  # user inputs: arg lists (function) / stdin (stdio)
    hypothesis: bool | None = None  # None: auto (on when typed and no generator, or a validator exists)
    test_max_n: int | None = None  # cap on generator sizes for tests (exponential problems)
    extra: dict = field(default_factory=dict)  # source, difficulty, tags: carried through untouched


def _defines(source: str, name: str) -> bool:
    tree = ast.parse(source)
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name for n in tree.body)


def _check_code(raw: dict, key: str, where: tuple[str, int], must_define: str | None = None) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(*where, "must be a non-empty string of Python source", key)
    try:
        ast.parse(value)
    except SyntaxError as exc:
        raise InputError(*where, f"is not valid Python: {exc.msg} (line {exc.lineno})", key) from None
    if must_define and not _defines(value, must_define):
        raise InputError(*where, f"must define a top-level function {must_define}()", key)
    return value


def _identifier(raw: dict, prompt: str, line: int) -> str:
    if raw.get("id") is not None:
        return str(raw["id"])
    digest = hashlib.sha1(prompt.encode()).hexdigest()[:12]
    return f"code-{digest}-{line}"


def parse_seed(raw: Any, path: str, line: int) -> Seed:
    """One JSONL object -> Seed, or InputError(path, line, message, field)."""
    where = (path, line)
    if not isinstance(raw, dict):
        raise InputError(path, line, f"expected a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - KNOWN)
    if unknown:
        raise InputError(path, line, f"unknown field (known: {', '.join(sorted(KNOWN))})", unknown[0])
    style = raw.get("style") or ("function" if raw.get("entry_point") else None)
    if style not in STYLES:
        raise InputError(path, line, "must be 'function' (needs entry_point) or 'stdio'", "style")
    prompt = raw.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError(path, line, "must be a non-empty string", "prompt")
    entry = raw.get("entry_point")
    if style == "function" and (not isinstance(entry, str) or not entry.isidentifier()):
        raise InputError(path, line, "must be a Python identifier for function-style problems", "entry_point")
    reference = _check_code(raw, "reference_solution", where, entry if style == "function" else None)
    if reference is None:
        raise InputError(path, line, "is required", "reference_solution")
    declared = raw.get("complexity")
    if declared is not None:
        try:
            declared = normalize_class(str(declared))
        except ValueError as exc:
            raise InputError(path, line, str(exc), "complexity") from None
    tests = raw.get("tests") or []
    if not isinstance(tests, list) or (style == "function" and not all(isinstance(t, list) for t in tests)) \
            or (style == "stdio" and not all(isinstance(t, str) for t in tests)):
        what = "a list of argument lists" if style == "function" else "a list of stdin strings"
        raise InputError(path, line, f"must be {what}", "tests")
    if raw.get("hypothesis") not in (None, True, False):
        raise InputError(path, line, "must be true, false or absent", "hypothesis")
    cap = raw.get("test_max_n")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 0):
        raise InputError(path, line, "must be a non-negative integer", "test_max_n")
    return Seed(
        id=_identifier(raw, prompt, line), style=style, prompt=prompt, reference_solution=reference,
        entry_point=entry if style == "function" else None,
        generator=_check_code(raw, "generator", where, "generate"),
        validator=_check_code(raw, "validator", where, "validate") if style == "function" else None,
        declared_class=declared, tests=tests, hypothesis=raw.get("hypothesis"), test_max_n=cap,
        extra={k: raw[k] for k in ("source", "difficulty", "tags") if k in raw},
    )


def read_seeds(path: str | Path) -> Iterator[Seed]:
    """Seeds from a JSONL file, in order; blank lines are skipped; ids must be unique."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), None, "seed file not found")
    seen: dict[str, int] = {}
    # the shared JSONL reader: invalid UTF-8, malformed or too deeply nested JSON are one clear line
    for row in iter_jsonl(path):
        seed = parse_seed(row.record, str(path), row.row)
        if seed.id in seen:
            raise InputError(str(path), row.row, f"duplicate id {seed.id!r} (first on line {seen[seed.id]})", "id")
        seen[seed.id] = row.row
        yield seed
