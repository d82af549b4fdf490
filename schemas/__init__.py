"""The record contracts between commands: JSON Schema 2020-12 files next to this module.

`kind` names a schema file (`trajectory` -> trajectory.schema.json). Validation errors come back as a
field path in the dotted/indexed form users read (`messages[2].content`) plus jsonschema's message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

GENERIC = "generic"  # records with no contract (e.g. a user's own JSONL passed through `synth filter`)


def kinds() -> list[str]:
    """Every record kind that has a schema file."""
    names = [p.name for p in resources.files(__package__).iterdir() if p.name.endswith(".schema.json")]
    return sorted(n.removesuffix(".schema.json") for n in names)


@cache
def load_schema(kind: str) -> dict[str, Any]:
    path = resources.files(__package__) / f"{kind}.schema.json"
    if not path.is_file():
        raise KeyError(f"unknown record kind {kind!r}; known: {', '.join(kinds())}")
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _validator(kind: str):
    from jsonschema import Draft202012Validator

    schema = load_schema(kind)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def field_path(parts) -> str:
    """['messages', 2, 'content'] -> 'messages[2].content'."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<record>"


def iter_errors(record: Any, kind: str) -> Iterator[tuple[str, str]]:
    """(field path, message) for every violation of `kind`'s schema; nothing for the generic kind."""
    if kind == GENERIC:
        if not isinstance(record, dict):
            yield "<record>", f"expected a JSON object, got {type(record).__name__}"
        return
    for err in sorted(_validator(kind).iter_errors(record), key=lambda e: list(map(str, e.absolute_path))):
        path = list(err.absolute_path)
        if err.validator == "required" and isinstance(err.instance, dict):
            missing = [k for k in err.validator_value if k not in err.instance]
            path, message = path + missing[:1], "is required but missing"
        elif err.validator == "additionalProperties":
            message = err.message.replace("Additional properties are not allowed ", "unknown field ")
        else:
            message = _short(err.message)
        yield field_path(path), message


@cache
def _fast_check(kind: str):
    """A compiled validator for the accept path (~15x faster than jsonschema on our records).

    fastjsonschema speaks draft-07; our schemas use only keywords both drafts share. It only decides
    "valid"; on any failure the messages come from jsonschema (2020-12), the reference validator.
    """
    import copy

    import fastjsonschema

    schema = copy.deepcopy(load_schema(kind))
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return fastjsonschema.compile(schema)


def is_valid(record: Any, kind: str) -> bool:
    if kind == GENERIC:
        return isinstance(record, dict)
    import fastjsonschema

    try:
        _fast_check(kind)(record)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


def first_error(record: Any, kind: str) -> tuple[str, str] | None:
    """None when valid, else the first (field path, message)."""
    if is_valid(record, kind):
        return None
    return next(iter_errors(record, kind), ("<record>", "invalid"))


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"
