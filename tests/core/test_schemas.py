import pytest
from jsonschema import Draft202012Validator

from synth import arrow, schemas
from tests.core.helpers import trajectory, without_nulls

KINDS = ["deepsearch_task", "trajectory", "code_problem", "preference_pair", "manifest", "reject"]


def test_every_required_schema_ships_and_is_valid_2020_12():
    assert set(KINDS) <= set(schemas.kinds())
    for kind in schemas.kinds():
        schema = schemas.load_schema(kind)
        assert schema["$schema"].endswith("2020-12/schema")
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "manifest"])
def test_every_record_kind_has_a_fixed_arrow_schema(kind):
    schema, _ = arrow.arrow_schema(kind)
    assert "id" in schema.names


def test_violation_paths_are_readable():
    bad = trajectory(1)
    bad["messages"][2]["content"] = 7
    del bad["messages"][0]["role"]
    errors = dict(schemas.iter_errors(bad, "trajectory"))
    assert "messages[2].content" in errors and "string" in errors["messages[2].content"]
    assert errors["messages[0].role"] == "is required but missing"
    assert dict(schemas.iter_errors({"id": "x", "messages": [{"role": "user"}], "colour": 1}, "trajectory"))


def test_arrow_round_trip_is_lossless_up_to_nulls():
    record = trajectory(3)
    table = arrow.table([record], "trajectory")
    back = arrow.decode(table.to_pylist()[0], "trajectory")
    assert back == without_nulls(record)
    assert isinstance(table.to_pylist()[0]["tools"][0], str)  # free-form parts are JSON text on disk
