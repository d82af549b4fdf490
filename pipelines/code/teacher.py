"""Teacher seams for code problems: pure functions record -> messages and text -> fields.

The teacher engine (synth/teachers, another issue) sends the messages with JSON-schema structured output
(schemas/code_teacher_*.schema.json) and hands the reply text back here; nothing in this module talks to
a model. Every parse failure is a `Reject` with a stable reason (the raw text is kept by the caller).

Flows built on these seams:
* evolve: seed record -> `evolve_messages` -> teacher -> `parse_problem` -> a `Seed` -> `build_problem`
  (the sandbox verifies everything the teacher wrote: reference, generator, validator).
* reverse: seed -> `reverse_messages` (solution + generator first, no statement) -> `parse_problem` ->
  tests and adequacy in the sandbox -> `statement_messages` -> `parse_statement` -> the prompt, last.
* agreement: several teacher solutions run on the same inputs; `agree` keeps the tests on which enough
  of them match the reference, so one buggy reference cannot fix wrong expected outputs.
* predicted class: `complexity_messages` -> `parse_complexity` -> `complexity.predicted`.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from synth.pipelines.code.complexity import normalize_class
from synth.pipelines.code.problems import Seed, parse_seed

from synth import schemas
from synth.errors import InputError
from synth.records import Reject

SYSTEM = ("You write competitive-programming problems in Python with optimal reference solutions. "
          "Answer with one JSON object that follows the given schema, and nothing else.")


def _user(text: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]


def evolve_messages(record: dict) -> list[dict]:
    """Ask for a new, harder problem in the spirit of `record` (a seed or code_problem record)."""
    return _user(
        "Here is a programming problem and its reference solution.\n\n"
        f"PROBLEM:\n{record['prompt']}\n\nSOLUTION:\n```python\n{record['reference_solution']}```\n\n"
        "Write a NEW problem that needs a different idea or one more constraint, with: `prompt` (statement "
        "with input constraints), `entry_point`, `reference_solution` (optimal), `generator` defining "
        "generate(n, rng) -> list of arguments (n is the input size; large n must be a worst case), "
        "`validator` defining validate(*args) -> bool, and `complexity` (the optimal class in n).")


def reverse_messages(record: dict) -> list[dict]:
    """Reverse generation, step 1: a solution and an input generator, no statement yet."""
    return _user(
        "Invent an algorithmic function in the area of this example, WITHOUT a problem statement: give "
        "`entry_point`, `reference_solution` (optimal, deterministic), `generator` defining generate(n, rng) "
        "-> list of arguments (large n must be a worst case), `validator`, and `complexity`.\n\n"
        f"EXAMPLE:\n```python\n{record['reference_solution']}```")


def statement_messages(problem: dict) -> list[dict]:
    """Reverse generation, last step: the statement for a verified solution and its tests."""
    examples = "\n".join(f"f(*{t['input']}) == {t['expected']}" for t in problem["tests"][:5])
    return _user(
        "Write the problem statement (`prompt`) that this verified solution answers. State the input "
        f"constraints; do not reveal the algorithm.\n\n```python\n{problem['reference_solution']}```\n\n"
        f"Entry point: {problem.get('entry_point')}\nExamples:\n{examples}")


def solve_messages(problem: dict) -> list[dict]:
    """Agreement: an independent solution of the statement alone (no reference shown), as a code block."""
    return [{"role": "system", "content": "You solve programming problems in Python."},
            {"role": "user", "content": f"{problem['prompt']}\n\nWrite a Python function `{problem['entry_point']}` "
             "that solves it. Answer with one ```python code block."}]


def complexity_messages(problem: dict) -> list[dict]:
    return _user(
        "What is the time complexity of this solution in terms of the input size n produced by the "
        f"generator?\n\nSOLUTION:\n```python\n{problem['reference_solution']}```\n\n"
        f"GENERATOR:\n```python\n{problem.get('generator') or ''}```")


def _load(text: str, kind: str) -> dict | Reject:
    try:
        value = json.loads(text, strict=False)
    except (TypeError, ValueError) as exc:
        return Reject("teacher_parse_error", f"not JSON: {exc}"[:200])
    error = schemas.first_error(value, kind)
    if error:
        return Reject("teacher_schema_violation", f"{error[0]}: {error[1]}"[:200])
    return value


def parse_problem(text: str, origin: Seed, new_id: str, path: str = "<teacher>") -> Seed | Reject:
    """Teacher reply -> a Seed ready for `build_problem` (the sandbox then verifies all of it)."""
    fields = _load(text, "code_teacher_problem")
    if isinstance(fields, Reject):
        return fields
    raw = {"id": new_id, "style": "function", "prompt": fields.get("prompt") or f"(statement pending) {origin.prompt}",
           "entry_point": fields["entry_point"], "reference_solution": fields["reference_solution"],
           "generator": fields["generator"], "validator": fields.get("validator"),
           "complexity": fields.get("complexity"), "source": f"teacher from {origin.id}"}
    try:
        return parse_seed({k: v for k, v in raw.items() if v is not None}, path, 0)
    except InputError as exc:  # it names the bad field: the teacher's fault, not the user's
        return Reject("teacher_invalid_problem", str(exc)[:200])


def parse_statement(text: str) -> str | Reject:
    fields = _load(text, "code_teacher_statement")
    return fields if isinstance(fields, Reject) else fields["prompt"]


def parse_complexity(text: str) -> str | Reject:
    fields = _load(text, "code_teacher_complexity")
    return fields if isinstance(fields, Reject) else normalize_class(fields["complexity"])


def agree(reference: list[Any], others: list[list[Any]], quorum: float = 0.5) -> list[bool]:
    """Per test: do more than `quorum` of all solutions (reference included) give the reference's output?
    Outputs are compared by their JSON text; None means the solution failed on that test."""
    keep = []
    for index, ref in enumerate(reference):
        votes = Counter(json.dumps(o[index], sort_keys=True) for o in [reference, *others] if o[index] is not None)
        total = 1 + len(others)
        keep.append(ref is not None and votes[json.dumps(ref, sort_keys=True)] / total > quorum)
    return keep
