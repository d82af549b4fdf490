"""Schema -> regex (compact JSON that validates), and the parse/validate path every JSON call ends in."""

from __future__ import annotations

import json
import re

import pytest

from synth.teachers.structured import constraint, first_schema_error, parse, schema_regex
from tests.teachers.jobs import SCORE_SCHEMA


def compact(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # ", " and ": " separators, as the regex spells them


@pytest.mark.parametrize("value", [
    {"score": 10, "verdict": "good", "reason": "clear and correct", "tags": ["a", "bb"]},
    {"score": 1, "verdict": "bad", "reason": "", "tags": []},
    {"score": 7, "verdict": "bad", "reason": 'has "quotes" and \\ backslash', "tags": ["x"]},
])
def test_valid_values_match_the_regex(value):
    assert first_schema_error(value, SCORE_SCHEMA) is None
    assert re.fullmatch(schema_regex(SCORE_SCHEMA), compact(value))
    assert re.fullmatch(schema_regex(SCORE_SCHEMA, bounded_strings=True), compact(value))


@pytest.mark.parametrize("value", [
    {"score": 11, "verdict": "good", "reason": "x", "tags": []},       # above maximum
    {"score": 5, "verdict": "maybe", "reason": "x", "tags": []},       # not in enum
    {"score": 5, "verdict": "good", "reason": "x" * 41, "tags": []},   # longer than maxLength
    {"score": 5, "verdict": "good", "reason": "x", "tags": ["a"] * 4},  # more than maxItems
])
def test_invalid_values_do_not_match(value):
    assert first_schema_error(value, SCORE_SCHEMA) is not None
    assert not re.fullmatch(schema_regex(SCORE_SCHEMA, bounded_strings=True), compact(value))


def test_default_regex_leaves_string_lengths_to_validation():
    # a bound inside the regex costs xgrammar seconds per token on a real vocabulary (issue 30): the default
    # regex lets a long string through and parse() rejects it by its maxLength
    long = {"score": 5, "verdict": "good", "reason": "x" * 41, "tags": []}
    assert re.fullmatch(schema_regex(SCORE_SCHEMA), compact(long))
    assert "{0,40}" not in schema_regex(SCORE_SCHEMA) and "{0,40}" in schema_regex(SCORE_SCHEMA, bounded_strings=True)
    assert parse(compact(long), "stop", SCORE_SCHEMA)[1] == "teacher_schema_invalid"
    assert constraint(SCORE_SCHEMA, "regex_bounded")["structured_outputs"]["regex"] == \
        schema_regex(SCORE_SCHEMA, bounded_strings=True)


def test_nested_objects_nullable_and_numbers():
    schema = {"type": "object", "properties": {
        "inner": {"type": "object", "properties": {"ok": {"type": "boolean"}, "n": {"type": ["number", "null"]}}},
        "k": {"type": "integer", "minimum": 0}}}
    rx = schema_regex(schema)
    for value in ({"inner": {"ok": True, "n": -1.5}, "k": 12}, {"inner": {"ok": False, "n": None}, "k": 0}):
        assert re.fullmatch(rx, compact(value)) and first_schema_error(value, schema) is None
    assert not re.fullmatch(rx, compact({"inner": {"ok": True, "n": 1}, "k": -3}))


def test_unsupported_schemas_fall_back_to_response_format():
    free = {"type": "object"}  # free-form: cannot be bounded by a regex
    assert schema_regex(free) is None
    assert "response_format" in constraint(free, "regex")
    assert "structured_outputs" in constraint(SCORE_SCHEMA, "regex")
    assert constraint(SCORE_SCHEMA, "json_schema")["response_format"]["json_schema"]["schema"] == SCORE_SCHEMA
    assert constraint(SCORE_SCHEMA, "none") == {}


def test_parse_reasons_are_stable():
    ok = '{"score": 3, "verdict": "good", "reason": "line\nbreak", "tags": []}'  # raw newline: strict=False
    assert parse(ok, "stop", SCORE_SCHEMA)[0]["reason"] == "line\nbreak"
    assert parse("```json\n" + ok + "\n```", "stop", SCORE_SCHEMA)[1] is None
    assert parse("Sure! " + ok + " Hope that helps.", "stop", SCORE_SCHEMA)[1] is None
    assert parse(ok[:20], "length", SCORE_SCHEMA)[1] == "teacher_truncated"
    assert parse("no json here", "stop", SCORE_SCHEMA)[1] == "teacher_unparsable"
    value, reason, detail = parse('{"score": 99, "verdict": "good", "reason": "", "tags": []}', "stop", SCORE_SCHEMA)
    assert value is None and reason == "teacher_schema_invalid" and "score" in detail
