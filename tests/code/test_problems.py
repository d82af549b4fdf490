"""Seed files: every field checked; bad input names file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synth.pipelines.code.problems import read_seeds

from synth.errors import InputError

REPO = Path(__file__).resolve().parents[2]
GOOD = {"id": "add", "prompt": "Add two numbers.", "entry_point": "add",
        "reference_solution": "def add(a: int, b: int) -> int:\n    return a + b\n"}


def _write(tmp_path, *rows) -> Path:
    path = tmp_path / "seeds.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_shipped_seeds_are_valid():
    seeds = list(read_seeds(REPO / "examples" / "code_seeds.jsonl"))
    assert len(seeds) >= 20
    assert {s.style for s in seeds} == {"function", "stdio"}
    assert all(s.generator and s.declared_class for s in seeds)


@pytest.mark.parametrize("change, field, words", [
    ({"entry_point": "plus"}, "reference_solution", "must define a top-level function plus()"),
    ({"reference_solution": "def add(a, b):\n    return a +\n"}, "reference_solution", "not valid Python"),
    ({"prompt": ""}, "prompt", "non-empty"),
    ({"complexity": "O(n!)"}, "complexity", "unknown complexity class"),
    ({"tests": [1, 2]}, "tests", "argument lists"),
    ({"generator": "def gen(n, rng):\n    return [n]\n"}, "generator", "generate()"),
    ({"colour": "red"}, "colour", "unknown field"),
    ({"entry_point": None, "style": "function"}, "entry_point", "identifier"),
])
def test_bad_seed_names_line_and_field(tmp_path, change, field, words):
    path = _write(tmp_path, GOOD, {**GOOD, "id": "second", **change})
    with pytest.raises(InputError) as err:
        list(read_seeds(path))
    assert err.value.row == 2 and err.value.field == field and words in str(err.value)
    assert str(err.value).startswith(f"{path}:2: field '{field}'")


def test_duplicate_ids_and_bad_json(tmp_path):
    with pytest.raises(InputError, match="duplicate id"):
        list(read_seeds(_write(tmp_path, GOOD, GOOD)))
    with pytest.raises(InputError, match="malformed JSON") as err:  # the shared reader's wording
        list(read_seeds(_write(tmp_path, GOOD, "{not json")))
    assert err.value.row == 2


def test_stdio_seed_and_derived_id(tmp_path):
    row = {"style": "stdio", "prompt": "Echo.", "reference_solution": "print(input())\n", "tests": ["a\n"]}
    (seed,) = read_seeds(_write(tmp_path, row))
    assert seed.style == "stdio" and seed.entry_point is None and seed.id.startswith("code-")
