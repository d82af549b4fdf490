"""Teacher seams: prompts are pure functions of records; replies parse into fields or stable rejects."""

from __future__ import annotations

import json

from synth.pipelines.code import teacher
from synth.pipelines.code.problems import parse_seed

from synth.records import Reject

ORIGIN = parse_seed({"id": "s", "prompt": "Sum.", "entry_point": "f",
                     "reference_solution": "def f(xs):\n    return sum(xs)\n"}, "<seed>", 1)
REPLY = {"prompt": "Sum of squares.", "entry_point": "g", "complexity": "O(n)",
         "reference_solution": "def g(xs):\n    return sum(x * x for x in xs)\n",
         "generator": "def generate(n, rng):\n    return [[rng.randint(-9, 9) for _ in range(n)]]\n"}


def test_messages_are_pure_functions_of_the_record():
    record = {"prompt": ORIGIN.prompt, "reference_solution": ORIGIN.reference_solution, "tests": [], "generator": None}
    for build in (teacher.evolve_messages, teacher.reverse_messages, teacher.complexity_messages):
        a, b = build(record), build(record)
        assert a == b and a[-1]["role"] == "user" and ORIGIN.reference_solution in a[-1]["content"]
    assert "reference_solution" not in teacher.statement_messages({**record, "entry_point": "f"})[-1]["content"][:20]


def test_parse_problem_into_a_seed_or_a_reject():
    seed = teacher.parse_problem(json.dumps(REPLY), ORIGIN, "s-evolved-1")
    assert seed.id == "s-evolved-1" and seed.entry_point == "g" and seed.declared_class == "O(n)"
    assert teacher.parse_problem("not json", ORIGIN, "x").reason == "teacher_parse_error"
    assert teacher.parse_problem(json.dumps({"entry_point": "g"}), ORIGIN, "x").reason == "teacher_schema_violation"
    broken = {**REPLY, "reference_solution": "def h():\n    pass\n"}
    assert teacher.parse_problem(json.dumps(broken), ORIGIN, "x").reason == "teacher_invalid_problem"


def test_statement_and_complexity_parsers():
    assert teacher.parse_statement(json.dumps({"prompt": "Do it."})) == "Do it."
    assert teacher.parse_complexity(json.dumps({"complexity": "O(n log n)"})) == "O(n log n)"
    assert isinstance(teacher.parse_complexity(json.dumps({"complexity": "O(n!)"})), Reject)


def test_output_agreement_keeps_tests_most_solutions_confirm():
    reference = [1, 2, 3, None]
    others = [[1, 2, 4, 5], [1, 9, 4, 5], [1, 2, 3, 5]]
    assert teacher.agree(reference, others) == [True, True, False, False]
